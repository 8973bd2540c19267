using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using NekkoMetal.Inventory;

namespace NekkoMetal.BootServer.Api;

/// <summary>
/// The one place where errors become HTTP: domain exceptions to status codes, every answer an RFC 9457
/// problem (<c>application/problem+json</c>), validation errors listed per field under <c>errors</c>.
/// </summary>
public sealed partial class ProblemMapping(IProblemDetailsService problems, ILogger<ProblemMapping> logger) : IExceptionHandler
{
    private readonly ILogger<ProblemMapping> _logger = logger;

    public static (int Status, string Title) Map(Exception exception) => exception switch
    {
        ValidationException => (400, "Invalid request"),
        NotFoundException => (404, "Not found"),
        ForbiddenTransitionException => (409, "Forbidden state transition"),
        AddressPoolExhaustedException => (409, "Address pool exhausted"),
        ConflictException => (409, "Conflict"),
        StoreUnavailableException => (503, "Store unavailable"),
        BadHttpRequestException { StatusCode: 413 } => (413, "Request body too large"),
        BadHttpRequestException b => (b.StatusCode, "Bad request"),
        Pki.CertificateRequestException => (400, "Invalid certificate request"),
        Pki.PkiException { IsTransient: true } => (503, "Certificate authority unavailable"),
        _ => (500, "Internal error"),
    };

    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        var (status, title) = Map(exception);
        var problem = new ProblemDetails
        {
            Status = status,
            Title = title,
            Detail = status == 500 ? "the boot server failed to handle the request; see its log" : exception.Message,
        };
        if (exception is ValidationException v)
        {
            problem.Extensions["errors"] = v.Errors;
        }

        if (exception is StoreUnavailableException)
        {
            httpContext.Response.Headers.RetryAfter = "2";
        }

        if (status == 500)
        {
            LogServerError(exception, httpContext.Request.Method, httpContext.Request.Path);
        }

        httpContext.Response.StatusCode = status;
        return await problems.TryWriteAsync(new ProblemDetailsContext { HttpContext = httpContext, ProblemDetails = problem, Exception = exception });
    }

    [LoggerMessage(EventIds.ApiServerError, LogLevel.Error, "Unhandled error in {Method} {Path}")]
    private partial void LogServerError(Exception exception, string method, string path);
}
