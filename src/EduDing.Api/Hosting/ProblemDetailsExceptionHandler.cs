using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;

namespace EduDing.Api.Hosting;

/// <summary>
/// The one place where exceptions become RFC 9457 problem details. Input errors name the field (the JSON path of a
/// malformed body, the parameter of a bad query value) and the reason; anything unexpected is a 500 that shows
/// only its trace id.
/// </summary>
internal sealed class ProblemDetailsExceptionHandler(IProblemDetailsService problemDetails,
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

    private static ProblemDetails FromBadRequest(BadHttpRequestException bad)
    {
        if (bad.InnerException is JsonException json)
        {
            var field = string.IsNullOrEmpty(json.Path) ? "$" : json.Path;
            return new HttpValidationProblemDetails(new Dictionary<string, string[]>
            {
                [field] = [FirstSentence(json.Message)],
            })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request body is not valid JSON for this endpoint.",
                Detail = bad.Message,
            };
        }

        return Problem(bad.StatusCode, bad.StatusCode == StatusCodes.Status400BadRequest ? "Bad request" : null,
            bad.Message);
    }

    // System.Text.Json appends " Path: $.x | LineNumber: 0 | BytePositionInLine: 7." which the key already says.
    private static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path: ", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }

    private static ProblemDetails Problem(int status, string? title, string detail) =>
        new() { Status = status, Title = title, Detail = detail };
}
