namespace EduDing.Api.Hosting;

/// <summary>
/// An error that says what went wrong in Chinese as well, for the mini-app to show (<see cref="ProblemCodes"/>): the
/// problem's <c>detail</c> is this sentence and <c>detailEn</c> the English one the logs keep. Where it is null, the
/// detail is the status's general Chinese sentence.
/// </summary>
internal interface IChineseDetail
{
    string? Chinese { get; }
}

/// <summary>Thrown where an id names nothing the caller may see; becomes 404 problem details.</summary>
internal sealed class NotFoundException(string detail, string? chinese = null) : Exception(detail), IChineseDetail
{
    public string? Chinese { get; } = chinese;
}

/// <summary>
/// The request clashes with stored state (a duplicate, a stale version); becomes 409. <paramref name="reason"/> (snake
/// case) ends the problem's code, so that the mini-app tells one conflict from another (docs/errors.md).
/// </summary>
internal sealed class ConflictException(string detail, string? chinese = null, string? reason = null) : Exception(detail), IChineseDetail, IProblemReason
{
    public string? Chinese { get; } = chinese;

    public string? Reason { get; } = reason;
}

/// <summary>Well-formed input that a business rule refuses (a closed window, a full class); becomes 422. <paramref name="reason"/> as for 409.</summary>
internal sealed class RuleViolationException(string detail, string? chinese = null, string? reason = null) : Exception(detail), IChineseDetail, IProblemReason
{
    public string? Chinese { get; } = chinese;

    public string? Reason { get; } = reason;
}

/// <summary>The last part of a problem's code: which conflict or which rule (e.g. <c>care.rule_violated.signup_window</c>).</summary>
internal interface IProblemReason
{
    string? Reason { get; }
}

/// <summary>Input that fails validation, keyed by the field's JSON name; becomes 400 with per-field errors.</summary>
internal sealed class RequestValidationException(IDictionary<string, string[]> errors)
    : Exception("One or more fields are invalid.")
{
    public RequestValidationException(string field, string reason)
        : this(new Dictionary<string, string[]> { [field] = [reason] })
    {
    }

    public IDictionary<string, string[]> Errors { get; } = errors;
}

/// <summary>The caller could not be authenticated (a used or expired DingTalk code, a bad refresh token); becomes 401.</summary>
internal sealed class AuthenticationFailedException(string detail, string? chinese = null) : Exception(detail), IChineseDetail
{
    public string? Chinese { get; } = chinese;
}

/// <summary>Authenticated, but not allowed (not in the synced organization, scope missing); becomes 403.</summary>
internal sealed class ForbiddenException(string detail, string? chinese = null) : Exception(detail), IChineseDetail
{
    public string? Chinese { get; } = chinese;
}

/// <summary>A dependency (DingTalk) is not answering; becomes 503 with Retry-After so the client retries later.</summary>
internal sealed class DependencyUnavailableException(string detail, Exception? inner = null, int retryAfterSeconds = 5)
    : Exception(detail, inner), IChineseDetail
{
    public string? Chinese => "钉钉暂时没有响应，请稍后再试。";

    public int RetryAfterSeconds { get; } = retryAfterSeconds;
}

/// <summary>A body in a format this endpoint does not take (a file that is not .xlsx); becomes 415 naming the field.</summary>
internal sealed class UnsupportedMediaTypeException(string field, string reason) : Exception($"{field}: {reason}")
{
    public string Field { get; } = field;

    public string Reason { get; } = reason;
}
