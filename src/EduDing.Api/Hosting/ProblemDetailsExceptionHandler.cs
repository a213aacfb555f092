using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace EduDing.Api.Hosting;

/// <summary>
/// The one place where exceptions become RFC 9457 problem details. Input errors name the field (the JSON path of a
/// malformed body, the parameter of a bad query value) and the reason; anything unexpected is a 500 that shows
/// only its trace id.
/// </summary>
internal sealed partial class ProblemDetailsExceptionHandler(IProblemDetailsService problemDetails,
    ILogger<ProblemDetailsExceptionHandler> log) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken ct)
    {
        var problem = exception switch
        {
            BadHttpRequestException bad => FromBadRequest(bad),
            RequestValidationException invalid => new HttpValidationProblemDetails(invalid.Errors)
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "One or more fields are invalid.",
            },
            UnsupportedMediaTypeException e => new HttpValidationProblemDetails(new Dictionary<string, string[]> { [e.Field] = [e.Reason] })
            {
                Status = StatusCodes.Status415UnsupportedMediaType,
                Title = "The file is not in a format this endpoint takes.",
            },
            NotFoundException e => Problem(StatusCodes.Status404NotFound, "Not found", e.Message),
            ConflictException e => Problem(StatusCodes.Status409Conflict, "Conflict", e.Message),
            RuleViolationException e => Problem(StatusCodes.Status422UnprocessableEntity,
                "The request breaks a rule", e.Message),
            AuthenticationFailedException e => Problem(StatusCodes.Status401Unauthorized, "Not signed in", e.Message),
            ForbiddenException e => Problem(StatusCodes.Status403Forbidden, "Forbidden", e.Message),
            DependencyUnavailableException e => Problem(StatusCodes.Status503ServiceUnavailable, "Try again shortly", e.Message),
            _ => null,
        };

        if (problem is null)
        {
            log.LogError(exception, "Unhandled exception for {Method} {Path}", httpContext.Request.Method,
                httpContext.Request.Path);
            problem = Problem(StatusCodes.Status500InternalServerError, "An unexpected error occurred.",
                "The error was logged with this response's trace id.");
        }

        if (exception is IChineseDetail { Chinese: { } chinese })
        {
            httpContext.Items[ProblemCodes.ChineseDetailItem] = chinese;
        }

        if (exception is IProblemReason { Reason: { } reason })
        {
            httpContext.Items[ProblemCodes.ReasonItem] = reason;
        }

        httpContext.Response.StatusCode = problem.Status!.Value;
        if (exception is DependencyUnavailableException unavailable)
        {
            httpContext.Response.Headers.RetryAfter = unavailable.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
        }

        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    /// <summary>
    /// ASP.NET Core's binding failures, in the contract's words: the JSON path or the query/route parameter's name and
    /// what it must be. Its own messages name .NET types ("Nullable&lt;int&gt; page", "System.Decimal", our records), which a
    /// mini-app developer cannot act on and we do not publish.
    /// </summary>
    private static ProblemDetails FromBadRequest(BadHttpRequestException bad)
    {
        if (bad.InnerException is JsonException json)
        {
            var field = string.IsNullOrEmpty(json.Path) ? "$" : json.Path;
            return Invalid(field, JsonReason(json.Message), "The request body is not valid JSON for this endpoint.");
        }

        var message = bad.Message;
        if (bad.StatusCode == StatusCodes.Status415UnsupportedMediaType || message.StartsWith("Expected a supported", StringComparison.Ordinal))
        {
            return new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["$"] = ["send the body as application/json"] })
            {
                Status = StatusCodes.Status415UnsupportedMediaType,
                Title = "The request body is not in a format this endpoint takes.",
            };
        }

        if (ParameterOf().Match(message) is { Success: true } parameter)
        {
            var (type, name) = (parameter.Groups["type"].Value, parameter.Groups["name"].Value);
            if (message.StartsWith("Implicit body", StringComparison.Ordinal) || message.Contains("request body", StringComparison.Ordinal))
            {
                return Invalid("$", "a JSON body is required", "The request body is missing or unreadable.");
            }

            return message.StartsWith("Required parameter", StringComparison.Ordinal)
                ? Invalid(name, "is required", "A required value is missing.")
                : Invalid(name, MustBe(type, "has a value of the wrong kind"), "A value in the address is not of the right kind.");
        }

        return Problem(bad.StatusCode, bad.StatusCode == StatusCodes.Status400BadRequest ? "Bad request" : null,
            bad.StatusCode == StatusCodes.Status413PayloadTooLarge ? "The request body is too large." : "The request could not be read.");
    }

    private static HttpValidationProblemDetails Invalid(string field, string reason, string title) =>
        new(new Dictionary<string, string[]> { [field] = [reason] }) { Status = StatusCodes.Status400BadRequest, Title = title };

    /// <summary>
    /// What a value must be, from the .NET type it failed to become, as either message names it ("Nullable&lt;int&gt;"
    /// from binding, "System.Nullable`1[System.Decimal]" from System.Text.Json); <paramref name="otherwise"/> for
    /// anything else (a record: an object).
    /// </summary>
    private static string MustBe(string dotnetType, string otherwise) => dotnetType switch
    {
        var t when t.Contains("List", StringComparison.Ordinal) || t.Contains("[]", StringComparison.Ordinal) ||
                   t.Contains("Enumerable", StringComparison.Ordinal) => "must be an array",
        var t when TypeWord(t, "decimal|double|float|Decimal|Double|Single") => "must be a number",
        var t when t.Contains("DateOnly", StringComparison.Ordinal) => "must be a date, e.g. 2026-09-01",
        var t when t.Contains("DateTime", StringComparison.Ordinal) => "must be a date and time, e.g. 2026-09-01T08:30:00+08:00",
        var t when TypeWord(t, "int|long|short|Int16|Int32|Int64") => "must be a whole number",
        var t when TypeWord(t, "bool|Boolean") => "must be true or false",
        var t when t.Contains("String", StringComparison.Ordinal) => "must be a string",
        _ => otherwise,
    };

    // Whole words only: a record named …Interval or …Print is no int.
    private static bool TypeWord(string dotnetType, string words) =>
        System.Text.RegularExpressions.Regex.IsMatch(dotnetType, $@"\b({words})\b");

    /// <summary>System.Text.Json's reason without its " Path: …" tail and without .NET type names.</summary>
    private static string JsonReason(string message)
    {
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        var reason = cut > 0 ? message[..cut] : message;
        if (ConvertedTo().Match(reason) is { Success: true } converted)
        {
            return MustBe(converted.Groups["type"].Value, "must be an object");
        }

        return reason.Contains("EduDing.", StringComparison.Ordinal) || reason.Contains("System.", StringComparison.Ordinal)
            ? "has a value of the wrong kind"
            : reason;
    }

    [System.Text.RegularExpressions.GeneratedRegex("parameter \"(?<type>[^\"]*) (?<name>[^\" ]+)\"")]
    private static partial System.Text.RegularExpressions.Regex ParameterOf();

    [System.Text.RegularExpressions.GeneratedRegex("could not be converted to (?<type>\\S+)")]
    private static partial System.Text.RegularExpressions.Regex ConvertedTo();

    private static ProblemDetails Problem(int status, string? title, string detail) =>
        new() { Status = status, Title = title, Detail = detail };
}
