using Dapper;
using EduDing.Api.Data;
using EduDing.DingTalk.Models;

namespace EduDing.Api.Features.DingTalk;

/// <summary>Where a corp's event delivery stands this month (Asia/Shanghai).</summary>
internal sealed record PushState(string CorpId, long PushesThisMonth, long MonthlyQuota, bool ReconcileOnly, string? Reason);

/// <summary>
/// DingTalk meters event pushes per corp per month (contract §12; 标准版 3,000, 专业版 50,000): 家校 (edu_*) events count,
/// 通讯录 events do not. Pushes are counted as they arrive, next to the metered calls (dingtalk_call_usage, api "push").
/// A corp whose pushes ran out (DingTalk said 20001) or nearly ran out is reconcile-only for the rest of the month: the
/// scheduler keeps its mirror by reconciling within the call budget, and operators see the state at /api/org/corps.
/// When the month turns the state lapses by itself and events resume. docs/deployment-models.md.
/// </summary>
internal sealed class PushBudget(Database db, CallUsageTracker usage, CorpDirectory corps)
{
    public const string PushApi = "push";

    /// <summary>The share of the month's pushes after which a corp goes reconcile-only before DingTalk stops it.</summary>
    public const double NearlySpent = 0.95;

    public void OnPushed(string corpId, string eventType)
    {
        if (EventQuota.CountsAsPush(eventType))
        {
            usage.Count(corpId, PushApi);
        }
    }

    /// <summary>DingTalk refused the corp's event delivery for the month (20001).</summary>
    public async Task MarkExhaustedAsync(string corpId, string reason, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition("""
            UPDATE corps SET push_paused_month = @month, push_paused_reason = @reason WHERE corp_id = @corpId
            """, new { corpId, month = usage.CurrentMonth, reason }, cancellationToken: ct));
    }

    public async Task<PushState> StateAsync(string corpId, CancellationToken ct)
    {
        var month = usage.CurrentMonth;
        var pushes = await usage.ThisMonthAsync(corpId, PushApi, ct);
        var quota = corps.Find(corpId)?.Quotas.Pushes ?? DingTalkEditions.Standard.Pushes;
        await using var connection = await db.OpenConnectionAsync(ct);
        var paused = await connection.QuerySingleOrDefaultAsync<(int? Month, string? Reason)>(new CommandDefinition(
            "SELECT push_paused_month, push_paused_reason FROM corps WHERE corp_id = @corpId", new { corpId }, cancellationToken: ct));
        if (paused.Month == month)
        {
            return new PushState(corpId, pushes, quota, true, paused.Reason);
        }

        return pushes >= quota * NearlySpent
            ? new PushState(corpId, pushes, quota, true, $"{pushes} of {quota} pushes used this month")
            : new PushState(corpId, pushes, quota, false, null);
    }
}

/// <summary>
/// DingTalk's monthly push quota per org by edition (contract §12), as configured per corp (DingTalk:Corps:N:Edition).
/// The editions' call quotas (5,000 / 200,000 / 5,000,000) are what OrgSync:MonthlyCallBudget is set against.
/// </summary>
internal sealed record DingTalkEditions(long Pushes)
{
    public static readonly DingTalkEditions Standard = new(3_000);

    public static readonly DingTalkEditions Professional = new(50_000);

    public static readonly DingTalkEditions AddOnPack = new(500_000);

    public static DingTalkEditions? For(string edition) => edition.ToLowerInvariant() switch
    {
        "standard" or "标准版" => Standard,
        "professional" or "专业版" => Professional,
        "addon" or "add-on" => AddOnPack,
        _ => null,
    };
}
