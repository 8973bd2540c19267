using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using NekkoMetal.Inventory.Tokens;

namespace NekkoMetal.BootServer.Auth;

/// <summary>
/// <c>Authorization: Bearer &lt;token&gt;</c>: the token's SHA-256 is looked up among the stored hashes (cache).
/// Missing or unknown token → 401, known token without the role → 403, both as problem+json.
/// </summary>
public sealed class BearerTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    TokenRepository tokens,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "Bearer";

    private const string Prefix = "Bearer ";

    /// <summary>The token of an <c>Authorization: Bearer &lt;token&gt;</c> header; null when there is none or it is another scheme.</summary>
    public static string? SecretOf(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith(Prefix, StringComparison.OrdinalIgnoreCase) ? header[Prefix.Length..].Trim() : null;
    }

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (string.IsNullOrEmpty(header))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        if (SecretOf(Request) is not { } secret)
        {
            return Task.FromResult(AuthenticateResult.Fail("the Authorization header is not 'Bearer <token>'"));
        }

        if (secret.StartsWith("nekkoboot_", StringComparison.Ordinal))
        {
            return Task.FromResult(AuthenticateResult.NoResult()); // a bootstrap token: checked (and used up) by its own endpoint
        }

        var token = tokens.Authenticate(secret);
        if (token is null)
        {
            return Task.FromResult(AuthenticateResult.Fail("unknown or revoked token"));
        }

        var identity = new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, token.Name), new Claim(ClaimTypes.Role, token.Role == TokenRole.Admin ? Roles.Admin : Roles.Viewer)],
            SchemeName);
        return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        var result = await HandleAuthenticateOnceSafeAsync();
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = 401,
                Title = "Unauthorized",
                Detail = result.Failure?.Message ?? "an API token is required: send 'Authorization: Bearer <token>'",
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await problems.WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails = new ProblemDetails
            {
                Status = 403,
                Title = "Forbidden",
                Detail = $"token '{Context.User.Identity?.Name}' may only read; this needs an admin token",
            },
        });
    }
}

public static class Roles
{
    public const string Admin = "admin";
    public const string Viewer = "viewer";
}

public static class Policies
{
    /// <summary>Any valid token.</summary>
    public const string Read = "read";

    /// <summary>Admin tokens only.</summary>
    public const string Write = "write";
}
