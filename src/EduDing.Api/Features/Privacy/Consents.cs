using System.ComponentModel;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Privacy;

/// <summary>What children's data is processed for; each purpose has its own consent (PIPL art. 29, 31).</summary>
internal static class ConsentPurpose
{
    [Description("视力筛查结果（明眸工程）")]
    public const string VisionScreening = "vision-screening";
    [Description("课后服务（报名、接送人、考勤）")]
    public const string AfterSchoolCare = "after-school-care";

    public static readonly IReadOnlyList<string> All = [VisionScreening, AfterSchoolCare];
}

/// <summary>The legal basis of a purpose: a guardian's separate consent, or a statutory duty (notice acknowledged, no consent asked).</summary>
internal static class LegalBasis
{
    [Description("监护人单独同意")]
    public const string Consent = "consent";
    [Description("履行法定职责（告知并确认知悉）")]
    public const string StatutoryDuty = "statutory-duty";

    public static readonly IReadOnlyList<string> All = [Consent, StatutoryDuty];
}

/// <summary>A guardian's answer for one child and purpose, as recorded.</summary>
internal static class ConsentDecision
{
    [Description("同意")]
    public const string Give = "give";
    [Description("不同意")]
    public const string Refuse = "refuse";
    [Description("撤回同意")]
    public const string Withdraw = "withdraw";
    [Description("已知悉")]
    public const string Acknowledge = "acknowledge";

    public static readonly IReadOnlyList<string> All = [Give, Refuse, Withdraw, Acknowledge];
}

/// <summary>Where one child stands for one purpose, as the school sees it.</summary>
internal static class ConsentStanding
{
    [Description("已同意")]
    public const string Given = "given";
    [Description("不同意")]
    public const string Refused = "refused";
    [Description("已撤回同意")]
    public const string Withdrawn = "withdrawn";
    [Description("未答复（或须按新版规则重新同意）")]
    public const string Missing = "missing";
    [Description("已确认知悉")]
    public const string Acknowledged = "acknowledged";
    [Description("未确认知悉")]
    public const string Unacknowledged = "unacknowledged";
    [Description("尚未发布处理规则")]
    public const string NoNotice = "no-notice";

    public static readonly IReadOnlyList<string> All = [Given, Refused, Withdrawn, Missing, Acknowledged, Unacknowledged, NoNotice];
}

/// <summary>Children's data protection (docs/privacy.md).</summary>
internal sealed class PrivacyOptions : IValidatedOptions
{
    public static string Section => "Privacy";

    /// <summary>
    /// The legal basis of each purpose (a legal-review item: screening ordered by the authorities may rest on a
    /// statutory duty). The default for every purpose is the safest one, the guardian's separate consent.
    /// </summary>
    public Dictionary<string, string> LegalBasis { get; set; } = new(StringComparer.Ordinal);

    public string BasisOf(string purpose) => LegalBasis.GetValueOrDefault(purpose) ?? Privacy.LegalBasis.Consent;

    /// <summary>
    /// After-school attendance, handovers and delegates are safety records: a deletion request waits this long after
    /// the child's last program ended (no national rule found; a year is the documented default).
    /// </summary>
    public TimeSpan CareRecordsKeptAfterProgram { get; set; } = TimeSpan.FromDays(365);

    /// <summary>
    /// A child who left a school (gone from its 家校通讯录) and appears in another school of the same unionId space within
    /// this time takes their vision history there (moves with 学籍).
    /// </summary>
    public TimeSpan TransferWindow { get; set; } = TimeSpan.FromDays(180);

    /// <summary>
    /// How long a leaver's identifiable data is kept after they left (graduation or transfer); then the retention job
    /// de-identifies it, statistics unchanged. Three years is the documented default, to confirm with the bureau.
    /// </summary>
    public TimeSpan LeaverRecordsKept { get; set; } = TimeSpan.FromDays(3 * 365);

    /// <summary>Run the retention job in this instance (a lease keeps it to one instance at a time).</summary>
    public bool RunRetention { get; set; } = true;

    /// <summary>How often the retention job runs.</summary>
    public TimeSpan RetentionInterval { get; set; } = TimeSpan.FromHours(1);

    public IEnumerable<(string Key, string Reason)> Validate()
    {
        if (CareRecordsKeptAfterProgram < TimeSpan.Zero || CareRecordsKeptAfterProgram > TimeSpan.FromDays(3650))
        {
            yield return (nameof(CareRecordsKeptAfterProgram), "must be between 0 and 3650 days");
        }

        if (TransferWindow < TimeSpan.Zero || TransferWindow > LeaverRecordsKept)
        {
            yield return (nameof(TransferWindow), "must be between 0 and LeaverRecordsKept");
        }

        if (LeaverRecordsKept < TimeSpan.FromDays(1) || LeaverRecordsKept > TimeSpan.FromDays(36500))
        {
            yield return (nameof(LeaverRecordsKept), "must be between 1 day and 100 years");
        }

        if (RetentionInterval < TimeSpan.FromSeconds(1))
        {
            yield return (nameof(RetentionInterval), "must be at least a second");
        }

        foreach (var (purpose, basis) in LegalBasis)
        {
            if (!ConsentPurpose.All.Contains(purpose))
            {
                yield return ($"{nameof(LegalBasis)}:{purpose}", $"is no purpose (one of {string.Join(", ", ConsentPurpose.All)})");
            }
            else if (!Privacy.LegalBasis.All.Contains(basis))
            {
                yield return ($"{nameof(LegalBasis)}:{purpose}", $"must be one of {string.Join(", ", Privacy.LegalBasis.All)} (was '{basis}')");
            }
        }
    }
}

internal sealed record PrivacyNotice(long Id, string Scope, int Version, string Title, string Body, string Purposes, bool RequiresNewConsent,
    DateTime PublishedAt, string PublishedByCorpId, string PublishedByUserId)
{
    public const string City = "city";

    public IReadOnlyList<string> PurposeList => Purposes.Split(',', StringSplitOptions.RemoveEmptyEntries);
}

internal sealed record ConsentState(string StudentUserId, string Purpose, string Decision, long NoticeId, DateTime At);

internal sealed record ConsentRecord(long Id, string CorpId, string StudentUserId, string Purpose, string Decision, long NoticeId,
    int NoticeVersion, string Channel, string? GuardianUserId, string RecordedByCorpId, string RecordedByUserId, DateTime At);

/// <summary>How an answer reached EduDing: the guardian in the mini-app, or a paper form an adviser recorded.</summary>
internal static class ConsentChannel
{
    [Description("家长在小程序中作答")]
    public const string MiniApp = "mini-app";
    [Description("纸质回执（班主任代为登记）")]
    public const string Paper = "paper";
}

internal sealed class ConsentRepository(Database db)
{
    /// <summary>Publishes the next version of the scope's notice (one at a time per scope: the unique key refuses a race's loser).</summary>
    public async Task<long> PublishAsync(string scope, string title, string body, IReadOnlyList<string> purposes, bool requiresNewConsent,
        DateTime now, string byCorpId, string byUserId, CancellationToken ct) =>
        await db.InTransactionAsync(async (tx, token) =>
        {
            var version = 1 + await tx.Connection!.ExecuteScalarAsync<int>(new CommandDefinition(
                "SELECT COALESCE(MAX(version), 0) FROM privacy_notices WHERE scope = @scope", new { scope }, tx, cancellationToken: token));
            return await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
                INSERT INTO privacy_notices (scope, version, title, body, purposes, requires_new_consent, published_at, published_by_corp_id, published_by_user_id)
                VALUES (@scope, @version, @title, @body, @purposes, @requiresNewConsent, @now, @byCorpId, @byUserId);
                {db.Dialect.SelectLastInsertId};
                """, new { scope, version, title, body, purposes = string.Join(',', purposes), requiresNewConsent, now, byCorpId, byUserId }, tx,
                cancellationToken: token));
        }, ct);

    /// <summary>The notices of the city and of one school (or of every scope when <paramref name="corpId"/> is null), oldest first.</summary>
    public async Task<IReadOnlyList<PrivacyNotice>> NoticesAsync(string? corpId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<PrivacyNotice>(new CommandDefinition($"""
            SELECT {NoticeColumns} FROM privacy_notices
            WHERE @corpId IS NULL OR scope IN (@city, @corpId)
            ORDER BY id
            """, new { corpId, city = PrivacyNotice.City }, cancellationToken: ct))).ToList();
    }

    public async Task<PrivacyNotice?> FindNoticeAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<PrivacyNotice>(new CommandDefinition(
            $"SELECT {NoticeColumns} FROM privacy_notices WHERE id = @id", new { id }, cancellationToken: ct));
    }

    /// <summary>
    /// Appends the answers to the history and makes them each child's latest, in one transaction. <paramref name="guardianUserId"/>
    /// is the answering guardian (null for a paper form); <paramref name="recordedBy"/> who entered it.
    /// </summary>
    public Task RecordAsync(string corpId, string studentUserId, IReadOnlyList<(string Purpose, string Decision)> answers, PrivacyNotice notice,
        string channel, string? guardianUserId, (string CorpId, string UserId) recordedBy, DateTime now, CancellationToken ct) =>
        db.InTransactionAsync(async (tx, token) =>
        {
            foreach (var (purpose, decision) in answers)
            {
                var recordId = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
                    INSERT INTO consent_records (corp_id, student_user_id, purpose, decision, notice_id, notice_version, channel, guardian_user_id,
                                                 recorded_by_corp_id, recorded_by_user_id, at)
                    VALUES (@corpId, @studentUserId, @purpose, @decision, @noticeId, @version, @channel, @guardianUserId, @recordedByCorpId,
                            @recordedByUserId, @now);
                    {db.Dialect.SelectLastInsertId};
                    """, new
                {
                    corpId, studentUserId, purpose, decision, noticeId = notice.Id, version = notice.Version, channel, guardianUserId,
                    recordedByCorpId = recordedBy.CorpId, recordedByUserId = recordedBy.UserId, now,
                }, tx, cancellationToken: token));
                await tx.Connection!.ExecuteAsync(new CommandDefinition(db.Dialect.Upsert("consent_states",
                        ["corp_id", "purpose", "student_user_id"], ["decision", "notice_id", "record_id", "at"]),
                    new { corp_id = corpId, purpose, student_user_id = studentUserId, decision, notice_id = notice.Id, record_id = recordId, at = now },
                    tx, cancellationToken: token));
            }

            return 0;
        }, ct);

    /// <summary>The latest answers for these children of the school, for one purpose.</summary>
    public async Task<IReadOnlyDictionary<string, ConsentState>> StatesAsync(string corpId, string purpose, IReadOnlyCollection<string> students,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var states = new Dictionary<string, ConsentState>(StringComparer.Ordinal);
        foreach (var chunk in students.Distinct().Chunk(500))
        {
            foreach (var state in await connection.QueryAsync<ConsentState>(new CommandDefinition("""
                         SELECT student_user_id, purpose, decision, notice_id, at FROM consent_states
                         WHERE corp_id = @corpId AND purpose = @purpose AND student_user_id IN @chunk
                         """, new { corpId, purpose, chunk }, cancellationToken: ct)))
            {
                states[state.StudentUserId] = state;
            }
        }

        return states;
    }

    /// <summary>One child's whole history, newest first (what a guardian's answers were, under which version).</summary>
    public async Task<IReadOnlyList<ConsentRecord>> HistoryAsync(string corpId, string studentUserId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ConsentRecord>(new CommandDefinition("""
            SELECT id, corp_id, student_user_id, purpose, decision, notice_id, notice_version, channel, guardian_user_id, recorded_by_corp_id,
                   recorded_by_user_id, at
            FROM consent_records WHERE corp_id = @corpId AND student_user_id = @studentUserId ORDER BY id DESC
            """, new { corpId, studentUserId }, cancellationToken: ct))).ToList();
    }

    public bool IsUniqueViolation(System.Data.Common.DbException ex) => db.Dialect.IsUniqueViolation(ex);

    private const string NoticeColumns =
        "id, scope, version, title, body, purposes, requires_new_consent, published_at, published_by_corp_id, published_by_user_id";
}

/// <summary>
/// Which notice is in force for a school and where each child stands under it (docs/privacy.md). A purpose is
/// enforced from the moment a notice covering it is in force for the school: from then on, data of a consent-based
/// purpose is shown to the school (and to grant holders) only for children whose guardian gave consent under that
/// notice or under an earlier one it did not ask to renew.
/// </summary>
internal sealed class ConsentService(ConsentRepository repo, IOptions<PrivacyOptions> options)
{
    /// <summary>The school's latest notice, else the city's latest; null before the bureau published one.</summary>
    public async Task<PrivacyNotice?> NoticeInForceAsync(string corpId, CancellationToken ct) =>
        InForce(await repo.NoticesAsync(corpId, ct), corpId);

    private static PrivacyNotice? InForce(IReadOnlyList<PrivacyNotice> notices, string corpId) =>
        notices.LastOrDefault(n => n.Scope == corpId) ?? notices.LastOrDefault(n => n.Scope == PrivacyNotice.City);

    public string BasisOf(string purpose) => options.Value.BasisOf(purpose);

    /// <summary>Where each of these children stands for the purpose under the notice in force.</summary>
    public async Task<IReadOnlyDictionary<string, string>> StandingsAsync(string corpId, string purpose, IReadOnlyCollection<string> students,
        CancellationToken ct) =>
        await StandingsAsync(await repo.NoticesAsync(corpId, ct), corpId, purpose, students, ct);

    /// <summary>One child's notice in force and standing for every purpose, the notices read once.</summary>
    public async Task<(PrivacyNotice? Notice, IReadOnlyDictionary<string, string> ByPurpose)> ChildAsync(string corpId, string studentUserId,
        CancellationToken ct)
    {
        var notices = await repo.NoticesAsync(corpId, ct);
        var byPurpose = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var purpose in ConsentPurpose.All)
        {
            byPurpose[purpose] = (await StandingsAsync(notices, corpId, purpose, [studentUserId], ct))[studentUserId];
        }

        return (InForce(notices, corpId), byPurpose);
    }

    private async Task<IReadOnlyDictionary<string, string>> StandingsAsync(IReadOnlyList<PrivacyNotice> notices, string corpId, string purpose,
        IReadOnlyCollection<string> students, CancellationToken ct)
    {
        var notice = InForce(notices, corpId);
        if (notice is null || !notice.PurposeList.Contains(purpose))
        {
            return students.Distinct().ToDictionary(s => s, _ => ConsentStanding.NoNotice, StringComparer.Ordinal);
        }

        var states = await repo.StatesAsync(corpId, purpose, students, ct);
        var floor = RenewalFloor(notices, notice, purpose);
        var statutory = BasisOf(purpose) == LegalBasis.StatutoryDuty;
        return students.Distinct().ToDictionary(s => s, s => Standing(states.GetValueOrDefault(s), floor, statutory), StringComparer.Ordinal);
    }

    /// <summary>Of these children, those whose data for the purpose the school may see (consent given, or not required).</summary>
    public async Task<IReadOnlySet<string>> ShownAsync(string corpId, string purpose, IReadOnlyCollection<string> students, CancellationToken ct)
    {
        if (BasisOf(purpose) == LegalBasis.StatutoryDuty || students.Count == 0)
        {
            return students.ToHashSet(StringComparer.Ordinal);
        }

        var standings = await StandingsAsync(corpId, purpose, students, ct);
        return standings.Where(s => s.Value is ConsentStanding.Given or ConsentStanding.NoNotice).Select(s => s.Key).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>
    /// The oldest notice an answer may have been given under and still count: the latest notice of the scope in force
    /// that covers the purpose and asked every guardian to answer again.
    /// </summary>
    internal static long RenewalFloor(IReadOnlyList<PrivacyNotice> notices, PrivacyNotice inForce, string purpose) =>
        notices.Where(n => n.Scope == inForce.Scope && n.Id <= inForce.Id && n.RequiresNewConsent && n.PurposeList.Contains(purpose))
            .Select(n => n.Id).DefaultIfEmpty(0).Max();

    private static string Standing(ConsentState? state, long floor, bool statutory)
    {
        if (state is null || state.NoticeId < floor)
        {
            return statutory ? ConsentStanding.Unacknowledged : ConsentStanding.Missing;
        }

        return (statutory, state.Decision) switch
        {
            (true, _) => ConsentStanding.Acknowledged,
            (false, ConsentDecision.Give) => ConsentStanding.Given,
            (false, ConsentDecision.Refuse) => ConsentStanding.Refused,
            (false, ConsentDecision.Withdraw) => ConsentStanding.Withdrawn,
            _ => ConsentStanding.Missing,
        };
    }
}
