using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using NekkoMetal.Cli.Output;

namespace NekkoMetal.Cli.Api;

/// <summary>
/// The server answered with an error. Holds the RFC 9457 problem details when the body is
/// <c>application/problem+json</c> (or any JSON with a title), otherwise the start of the body.
/// </summary>
internal sealed class ApiErrorException : CliException
{
    private const int MaxBodyChars = 500;

    private ApiErrorException(int status, string title, string? detail, IReadOnlyList<KeyValuePair<string, string>> fieldErrors, string? hint)
        : base($"{title} (HTTP {status.ToString(CultureInfo.InvariantCulture)})")
    {
        Status = status;
        Title = title;
        Detail = detail;
        FieldErrors = fieldErrors;
        Hint = hint;
    }

    public override int ExitCode => ExitCodes.ServerError;

    public int Status { get; }

    public string Title { get; }

    public string? Detail { get; }

    /// <summary>One entry per message of the problem's <c>errors</c> member: field name, message.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> FieldErrors { get; }

    public string? Hint { get; }

    public static ApiErrorException FromResponse(HttpResponseMessage response, string body, string tokenSource)
    {
        var status = (int)response.StatusCode;
        var fallbackTitle = response.ReasonPhrase is { Length: > 0 } reason ? reason : response.StatusCode.ToString();
        var hint = response.StatusCode switch
        {
            HttpStatusCode.Unauthorized => $"the server did not accept the token from {tokenSource}",
            HttpStatusCode.Forbidden => "the token's role does not allow this (viewer tokens can only read)",
            _ => null,
        };

        if (TryParseProblem(body, out var title, out var detail, out var fieldErrors))
        {
            return new ApiErrorException(status, title ?? fallbackTitle, detail, fieldErrors, hint);
        }

        var text = body.Trim();
        if (text.Length > MaxBodyChars)
        {
            text = string.Concat(text.AsSpan(0, MaxBodyChars), "…");
        }

        return new ApiErrorException(status, fallbackTitle, text.Length == 0 ? null : text, [], hint);
    }

    public static ApiErrorException NotJson(HttpResponseMessage response, JsonException error) =>
        new((int)response.StatusCode, "the server's answer is not JSON", error.Message, [], hint: null);

    public override void WriteTo(TextWriter stderr)
    {
        stderr.WriteLine($"error: {TerminalText.Clean(Message)}");
        if (Detail is { Length: > 0 } && Detail != Title)
        {
            stderr.WriteLine($"  {TerminalText.Clean(Detail)}");
        }

        foreach (var (field, message) in FieldErrors)
        {
            stderr.WriteLine($"  {TerminalText.Clean(field)}: {TerminalText.Clean(message)}");
        }

        if (Hint is not null)
        {
            stderr.WriteLine($"hint: {Hint}");
        }
    }

    private static bool TryParseProblem(string body, out string? title, out string? detail, out IReadOnlyList<KeyValuePair<string, string>> fieldErrors)
    {
        title = null;
        detail = null;
        fieldErrors = [];
        JsonObject? problem;
        try
        {
            problem = JsonNode.Parse(body) as JsonObject;
        }
        catch (JsonException)
        {
            return false;
        }

        if (problem is null)
        {
            return false;
        }

        title = StringMember(problem, "title");
        detail = StringMember(problem, "detail");
        var errors = new List<KeyValuePair<string, string>>();
        if (problem["errors"] is JsonObject fields)
        {
            foreach (var (field, messages) in fields)
            {
                switch (messages)
                {
                    case JsonArray array:
                        foreach (var message in array)
                        {
                            errors.Add(new(field, JsonText.Scalar(message)));
                        }

                        break;
                    default:
                        errors.Add(new(field, JsonText.Scalar(messages)));
                        break;
                }
            }
        }

        fieldErrors = errors;
        return title is not null || detail is not null || errors.Count > 0;
    }

    private static string? StringMember(JsonObject problem, string name) =>
        problem[name] is JsonValue value && value.TryGetValue<string>(out var text) && text.Length > 0 ? text : null;
}
