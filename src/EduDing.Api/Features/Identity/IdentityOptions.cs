using EduDing.Api.Hosting;

namespace EduDing.Api.Features.Identity;

internal sealed class IdentityOptions : IValidatedOptions
{
    public static string Section => "Identity";

    /// <summary>How long a session (access) token is valid; the mini-app refreshes before then.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long a sign-in lasts without the person opening the app (each refresh extends it).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromDays(30);

    /// <summary>
    /// Bureau departments (DingTalk dept ids) whose members administer the bureau's use of EduDing, besides the
    /// bureau corp's DingTalk admins. Uncertain who the bureau wants here: ask (domain-rules §4, least privilege).
    /// </summary>
    public List<long> BureauAdminDepartmentIds { get; set; } = [];

    /// <summary>School staff with one of these DingTalk job titles are school admins, besides the corp's DingTalk admins.</summary>
    public List<string> SchoolAdminTitles { get; set; } = [];

    /// <summary>
    /// Operators of the deployment (system-admin: sync runs, events, imports, fan-outs, call usage), by unionid. A
    /// person's unionid differs between corps of different developer accounts: list the one of each corp they sign in from.
    /// </summary>
    public List<string> SystemAdminUnionIds { get; set; } = [];

    /// <summary>Operators of the deployment by DingTalk department, as "corpId:deptId" (e.g. the bureau's 信息中心).</summary>
    public List<string> SystemAdminDepartments { get; set; } = [];

    /// <summary>
    /// The child-data officer (儿童个人信息保护专门负责人, docs/privacy.md) as "corpId:userId" of the bureau's DingTalk: every
    /// grant of access to children's identifiable records takes effect only once one of them approves it. Empty: grants
    /// wait (nobody else can stand in for the officer).
    /// </summary>
    public List<string> ChildDataOfficers { get; set; } = [];

    /// <summary>The longest a school may grant bureau staff access to identifiable records.</summary>
    public TimeSpan MaxGrantDuration { get; set; } = TimeSpan.FromDays(7);

    /// <summary>
    /// How long sign-in waits for DingTalk in all (token and user lookup, retries included) before answering 503 with
    /// Retry-After: a person staring at the mini-app should hear "try again" within seconds, not minutes.
    /// </summary>
    public TimeSpan SignInDeadline { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How stale an instance's knowledge of a session may be: an ended session's access tokens stop within this.</summary>
    public TimeSpan SessionCheckInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The configured operator departments as (corp, department) pairs.</summary>
    public IReadOnlyList<(string CorpId, long DeptId)> SystemAdminDepartmentIds() =>
        SystemAdminDepartments.Select(d => d.Split(':')).Select(p => (p[0], long.Parse(p[1], System.Globalization.CultureInfo.InvariantCulture))).ToList();

    /// <summary>The configured child-data officers as (corp, user) pairs.</summary>
    public IReadOnlyList<(string CorpId, string UserId)> ChildDataOfficerAccounts() =>
        ChildDataOfficers.Select(o => o.Split(':')).Where(p => p.Length == 2).Select(p => (p[0], p[1])).ToList();

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        for (var i = 0; i < ChildDataOfficers.Count; i++)
        {
            if (ChildDataOfficers[i].Split(':') is not [{ Length: > 0 }, { Length: > 0 }])
            {
                yield return ($"{nameof(ChildDataOfficers)}:{i}", $"must be corpId:userId (was '{ChildDataOfficers[i]}')");
            }
        }

        for (var i = 0; i < SystemAdminDepartments.Count; i++)
        {
            if (SystemAdminDepartments[i].Split(':') is not [{ Length: > 0 }, var dept] ||
                !long.TryParse(dept, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _))
            {
                yield return ($"{nameof(SystemAdminDepartments)}:{i}", $"must be corpId:deptId (was '{SystemAdminDepartments[i]}')");
            }
        }

        if (SystemAdminUnionIds.Any(string.IsNullOrWhiteSpace))
        {
            yield return (nameof(SystemAdminUnionIds), "must not hold an empty unionid");
        }

        if (SessionCheckInterval < TimeSpan.Zero || SessionCheckInterval > TimeSpan.FromMinutes(1))
        {
            yield return (nameof(SessionCheckInterval), "must be between 00:00:00 and 00:01:00");
        }

        if (SignInDeadline < TimeSpan.FromMilliseconds(100) || SignInDeadline > TimeSpan.FromMinutes(1))
        {
            yield return (nameof(SignInDeadline), "must be between 00:00:00.1 and 00:01:00");
        }

        if (AccessTokenLifetime < TimeSpan.FromMinutes(1) || AccessTokenLifetime > TimeSpan.FromHours(2))
        {
            yield return (nameof(AccessTokenLifetime), "must be between 00:01:00 and 02:00:00");
        }

        if (MaxGrantDuration <= TimeSpan.Zero || MaxGrantDuration > TimeSpan.FromDays(90))
        {
            yield return (nameof(MaxGrantDuration), "must be between 00:00:01 and 90 days");
        }

        if (SessionLifetime < AccessTokenLifetime || SessionLifetime > TimeSpan.FromDays(90))
        {
            yield return (nameof(SessionLifetime), "must be at least the access token lifetime and at most 90 days");
        }
    }
}
