using System.Data.Common;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Dapper;
using EduDing.Api.Data;

namespace EduDing.Api.Features.Approvals;

/// <summary>A row of an inbox or a requester's list: the request and, for an approver, when their step opened.</summary>
internal sealed record ApprovalListRow(long Id, string Kind, string CorpId, string Title, string RequesterCorpId, string RequesterUserId,
    string Status, string Route, int CurrentStep, DateTime CreatedAt, DateTime UpdatedAt, DateTime StepOpenedAt, DateTime? DecidedAt);

/// <summary>Chains, requests, their assignees and actions. Writes that change a request take the transaction of the caller.</summary>
internal sealed class ApprovalRepository(Database db)
{
    public const string CityDefault = "*";

    public Database Database => db;

    // ---- chains ----

    public async Task<ApprovalChain?> ChainAsync(string corpId, string kind, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var row = await connection.QueryFirstOrDefaultAsync<(string Steps, bool AutoApprove, string? ProcessCode)?>(new CommandDefinition(
            "SELECT steps, auto_approve, process_code FROM approval_chains WHERE corp_id = @corpId AND kind = @kind", new { corpId, kind },
            cancellationToken: ct));
        return row is { } r ? new ApprovalChain(ReadSteps(r.Steps), r.AutoApprove, r.ProcessCode) : null;
    }

    /// <summary>The school's chain for the kind and the city default, read together (both are looked at on every submission).</summary>
    public async Task<(ApprovalChain? School, ApprovalChain? City)> ChainsAsync(string corpId, string kind, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var rows = (await connection.QueryAsync<(string CorpId, string Steps, bool AutoApprove, string? ProcessCode)>(new CommandDefinition(
            "SELECT corp_id, steps, auto_approve, process_code FROM approval_chains WHERE corp_id IN (@corpId, @city) AND kind = @kind",
            new { corpId, city = CityDefault, kind }, cancellationToken: ct))).ToList();
        ApprovalChain? Of(string corp) => rows.FirstOrDefault(r => r.CorpId == corp) is { Steps: not null } r
            ? new ApprovalChain(ReadSteps(r.Steps), r.AutoApprove, r.ProcessCode)
            : null;
        return (Of(corpId), corpId == CityDefault ? null : Of(CityDefault));
    }

    public async Task SaveChainAsync(string corpId, string kind, ApprovalChain chain, string byCorpId, string byUserId, DateTime now,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            db.Dialect.Upsert("approval_chains", ["corp_id", "kind"],
                ["steps", "auto_approve", "process_code", "updated_at", "updated_by_corp_id", "updated_by_user_id"]),
            new
            {
                corp_id = corpId, kind, steps = WriteSteps(chain.Steps), auto_approve = chain.AutoApprove, process_code = chain.ProcessCode,
                updated_at = now, updated_by_corp_id = byCorpId, updated_by_user_id = byUserId,
            }, cancellationToken: ct));
    }

    public async Task<bool> DeleteChainAsync(string corpId, string kind, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "DELETE FROM approval_chains WHERE corp_id = @corpId AND kind = @kind", new { corpId, kind }, cancellationToken: ct)) == 1;
    }

    public static IReadOnlyList<ApprovalStep> ReadSteps(string json) =>
        JsonSerializer.Deserialize<List<ApprovalStep>>(json, JsonSerializerOptions.Web) ?? [];

    public static string WriteSteps(IReadOnlyList<ApprovalStep> steps) => JsonSerializer.Serialize(steps, JsonSerializerOptions.Web);

    // ---- requests ----

    private const string RequestColumns = """
        id, kind, corp_id, subject_id, class_id, title, summary, requester_corp_id, requester_user_id, status, route, steps, current_step,
        process_instance_id, version, created_at, updated_at, step_opened_at, decided_at, outcome_applied_at, checked_at
        """;

    /// <summary>
    /// A new pending request with its first step open and its submission recorded, in one round trip (the action names
    /// the request by its unique kind and subject), and with <paramref name="firstStep"/>'s people assigned in the same
    /// round trip when given (as <see cref="AddAssigneesAsync"/> would); the request as written.
    /// </summary>
    public async Task<ApprovalRequest> InsertRequestAsync(DbTransaction tx, ApprovalSubmission s, string requesterCorpId, string requesterUserId,
        string route, IReadOnlyList<ApprovalStep> steps, DateTime now, CancellationToken ct, IReadOnlyList<Approver>? firstStep = null)
    {
        var written = WriteSteps(steps);
        var args = new DynamicParameters(new
        {
            s.Kind, s.CorpId, s.SubjectId, s.ClassId, s.Title, s.Summary, requesterCorpId, requesterUserId,
            pending = ApprovalStatus.Pending, route, steps = written, now, open = true,
        });
        var assignees = new StringBuilder();
        for (var i = 0; i < (firstStep?.Count ?? 0); i++)
        {
            var approver = firstStep![i];
            args.Add($"c{i}", approver.CorpId);
            args.Add($"u{i}", approver.UserId);
            args.Add($"n{i}", approver.Name);
            args.Add($"h{i}", approver.How);
            assignees.Append(i == 0 ? "INSERT INTO approval_assignees (request_id, kind, step, corp_id, user_id, name, how, is_open, opened_at) " : " UNION ALL ")
                .Append(CultureInfo.InvariantCulture,
                    $"SELECT id, @Kind, 0, @c{i}, @u{i}, @n{i}, @h{i}, @open, @now FROM approval_requests WHERE kind = @Kind AND subject_id = @SubjectId");
        }

        var id = await tx.Connection!.ExecuteScalarAsync<long>(new CommandDefinition($"""
            INSERT INTO approval_requests (kind, corp_id, subject_id, class_id, title, summary, requester_corp_id, requester_user_id, status,
                                           route, steps, current_step, version, created_at, updated_at, step_opened_at)
            VALUES (@Kind, @CorpId, @SubjectId, @ClassId, @Title, @Summary, @requesterCorpId, @requesterUserId, @pending,
                    @route, @steps, 0, 0, @now, @now, @now);
            INSERT INTO approval_actions (request_id, step, actor_corp_id, actor_user_id, action, comment, at)
            SELECT id, 0, @requesterCorpId, @requesterUserId, 'submit', NULL, @now FROM approval_requests WHERE kind = @Kind AND subject_id = @SubjectId;
            {(assignees.Length == 0 ? "" : assignees + ";")}
            SELECT id FROM approval_requests WHERE kind = @Kind AND subject_id = @SubjectId;
            """, args, tx, cancellationToken: ct));
        return new ApprovalRequest(id, s.Kind, s.CorpId, s.SubjectId, s.ClassId, s.Title, s.Summary, requesterCorpId, requesterUserId,
            ApprovalStatus.Pending, route, written, 0, null, 0, now, now, now, null, null, null);
    }

    public async Task<ApprovalRequest?> FindAsync(long id, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<ApprovalRequest>(new CommandDefinition(
            $"SELECT {RequestColumns} FROM approval_requests WHERE id = @id", new { id }, cancellationToken: ct));
    }

    public Task<ApprovalRequest> GetAsync(DbTransaction tx, long id, CancellationToken ct) =>
        tx.Connection!.QuerySingleAsync<ApprovalRequest>(new CommandDefinition(
            $"SELECT {RequestColumns} FROM approval_requests WHERE id = @id", new { id }, tx, cancellationToken: ct));

    public async Task<ApprovalRequest?> FindBySubjectAsync(string kind, string subjectId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<ApprovalRequest>(new CommandDefinition(
            $"SELECT {RequestColumns} FROM approval_requests WHERE kind = @kind AND subject_id = @subjectId", new { kind, subjectId },
            cancellationToken: ct));
    }

    public async Task<ApprovalRequest?> FindByInstanceAsync(string processInstanceId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await connection.QuerySingleOrDefaultAsync<ApprovalRequest>(new CommandDefinition(
            $"SELECT {RequestColumns} FROM approval_requests WHERE process_instance_id = @processInstanceId", new { processInstanceId },
            cancellationToken: ct));
    }

    /// <summary>
    /// Takes the request for a change: bumps its version if it is still in <paramref name="status"/> on
    /// <paramref name="route"/>. The update holds the row until the transaction ends, so that concurrent deciders
    /// queue behind it and then see its outcome; false when the request has moved on.
    /// </summary>
    public async Task<bool> TryTakeAsync(DbTransaction tx, long id, string status, string route, DateTime now, CancellationToken ct) =>
        await tx.Connection!.ExecuteAsync(new CommandDefinition("""
            UPDATE approval_requests SET version = version + 1, updated_at = @now
            WHERE id = @id AND status = @status AND route = @route
            """, new { id, status, route, now }, tx, cancellationToken: ct)) == 1;

    public Task SetStatusAsync(DbTransaction tx, long id, string status, DateTime now, bool final, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition("""
            UPDATE approval_requests
            SET status = @status, updated_at = @now, decided_at = CASE WHEN @final = 1 THEN @now ELSE decided_at END,
                outcome_applied_at = NULL
            WHERE id = @id
            """, new { id, status, now, final = final ? 1 : 0 }, tx, cancellationToken: ct));

    public Task OpenStepAsync(DbTransaction tx, long id, int step, DateTime now, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            "UPDATE approval_requests SET current_step = @step, step_opened_at = @now, updated_at = @now WHERE id = @id",
            new { id, step, now }, tx, cancellationToken: ct));

    public Task SetRouteAsync(DbTransaction tx, long id, string route, string? processInstanceId, DateTime now, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition("""
            UPDATE approval_requests SET route = @route, process_instance_id = @processInstanceId, checked_at = @now, updated_at = @now
            WHERE id = @id
            """, new { id, route, processInstanceId, now }, tx, cancellationToken: ct));

    public async Task MarkOutcomeAppliedAsync(long id, int version, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE approval_requests SET outcome_applied_at = @now WHERE id = @id AND version = @version", new { id, version, now },
            cancellationToken: ct));
    }

    /// <summary>Decided requests whose outcome has not reached the feature yet (the feature failed, or the instance died on the way).</summary>
    public async Task<IReadOnlyList<ApprovalRequest>> UnappliedAsync(DateTime before, int take, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ApprovalRequest>(new CommandDefinition($"""
            SELECT {RequestColumns} FROM approval_requests
            WHERE outcome_applied_at IS NULL AND status <> @pending AND updated_at < @before
            ORDER BY id LIMIT @take
            """, new { pending = ApprovalStatus.Pending, before, take }, cancellationToken: ct))).ToList();
    }

    /// <summary>Claims one open DingTalk-routed request for a re-read (several instances: the one whose update lands reads it).</summary>
    public async Task<IReadOnlyList<ApprovalRequest>> ClaimInstanceChecksAsync(DateTime now, DateTime cutoff, int take, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        var due = (await connection.QueryAsync<ApprovalRequest>(new CommandDefinition($"""
            SELECT {RequestColumns} FROM approval_requests
            WHERE status = @pending AND route = @route AND (checked_at IS NULL OR checked_at < @cutoff)
            ORDER BY checked_at, id LIMIT @take
            """, new { pending = ApprovalStatus.Pending, route = ApprovalRoute.DingTalk, cutoff, take }, cancellationToken: ct))).ToList();
        var claimed = new List<ApprovalRequest>();
        foreach (var request in due)
        {
            if (await connection.ExecuteAsync(new CommandDefinition("""
                    UPDATE approval_requests SET checked_at = @now
                    WHERE id = @id AND status = @pending AND (checked_at IS NULL OR checked_at < @cutoff)
                    """, new { id = request.Id, now, cutoff, pending = ApprovalStatus.Pending }, cancellationToken: ct)) == 1)
            {
                claimed.Add(request);
            }
        }

        return claimed;
    }

    // ---- assignees ----

    /// <summary>The people of an opened step; the request's kind is kept with them so that an inbox is read from this table's index alone.</summary>
    public Task AddAssigneesAsync(DbTransaction tx, ApprovalRequest request, int step, IReadOnlyList<Approver> approvers, DateTime now,
        CancellationToken ct) =>
        MultiRowInsert.ExecuteAsync(tx, db.Dialect, "approval_assignees",
            ["request_id", "kind", "step", "corp_id", "user_id", "name", "how", "is_open", "opened_at"], approvers,
            a => [request.Id, request.Kind, step, a.CorpId, a.UserId, a.Name, a.How, true, now], ct);

    public async Task<IReadOnlyList<ApprovalAssignee>> AssigneesAsync(long requestId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return await AssigneesAsync(connection, null, requestId, ct);
    }

    public async Task<IReadOnlyList<ApprovalAssignee>> AssigneesAsync(DbTransaction tx, long requestId, CancellationToken ct) =>
        await AssigneesAsync(tx.Connection!, tx, requestId, ct);

    private static async Task<IReadOnlyList<ApprovalAssignee>> AssigneesAsync(DbConnection connection, DbTransaction? tx, long requestId,
        CancellationToken ct) =>
        (await connection.QueryAsync<ApprovalAssignee>(new CommandDefinition("""
            SELECT request_id, step, corp_id, user_id, name, how, is_open, decision, opened_at, closed_at
            FROM approval_assignees WHERE request_id = @requestId ORDER BY step, corp_id, user_id
            """, new { requestId }, tx, cancellationToken: ct))).ToList();

    /// <summary>Records one open assignee's decision; false when they had none open (decided already, or the step closed).</summary>
    public async Task<bool> DecideAsync(DbTransaction tx, long requestId, int step, string corpId, string userId, string decision, DateTime now,
        CancellationToken ct) =>
        await tx.Connection!.ExecuteAsync(new CommandDefinition("""
            UPDATE approval_assignees SET decision = @decision, is_open = 0, closed_at = @now
            WHERE request_id = @requestId AND step = @step AND corp_id = @corpId AND user_id = @userId AND is_open = 1
            """, new { requestId, step, corpId, userId, decision, now }, tx, cancellationToken: ct)) == 1;

    /// <summary>Closes every open assignee of the request (the step or the request is settled).</summary>
    public Task CloseOpenAsync(DbTransaction tx, long requestId, DateTime now, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition(
            "UPDATE approval_assignees SET is_open = 0, closed_at = @now WHERE request_id = @requestId AND is_open = 1",
            new { requestId, now }, tx, cancellationToken: ct));

    /// <summary>Forgets who the steps were assigned to (a resubmitted request starts its chain again; the actions keep the history).</summary>
    public Task ClearAssigneesAsync(DbTransaction tx, long requestId, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition("DELETE FROM approval_assignees WHERE request_id = @requestId", new { requestId }, tx,
            cancellationToken: ct));

    /// <summary>Closes a departed person's open assignment, recording why.</summary>
    public Task CloseDepartedAsync(DbTransaction tx, long requestId, string corpId, string userId, DateTime now, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition("""
            UPDATE approval_assignees SET is_open = 0, closed_at = @now, decision = 'left'
            WHERE request_id = @requestId AND corp_id = @corpId AND user_id = @userId AND is_open = 1
            """, new { requestId, corpId, userId, now }, tx, cancellationToken: ct));

    /// <summary>The people with open assignments, each once.</summary>
    public async Task<IReadOnlyList<(string CorpId, string UserId)>> OpenApproversAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string, string)>(new CommandDefinition(
            "SELECT DISTINCT corp_id, user_id FROM approval_assignees WHERE is_open = 1", cancellationToken: ct))).ToList();
    }

    /// <summary>The requests one person holds open.</summary>
    public async Task<IReadOnlyList<long>> OpenRequestsOfAsync(string corpId, string userId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition(
            "SELECT request_id FROM approval_assignees WHERE corp_id = @corpId AND user_id = @userId AND is_open = 1",
            new { corpId, userId }, cancellationToken: ct))).ToList();
    }

    /// <summary>Pending in-app requests whose open step has nobody to decide it (the pool and every escalation were empty).</summary>
    public async Task<IReadOnlyList<long>> WithoutApproverAsync(CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<long>(new CommandDefinition("""
            SELECT r.id FROM approval_requests r
            WHERE r.status = @pending AND r.route = @route
              AND NOT EXISTS (SELECT 1 FROM approval_assignees a WHERE a.request_id = r.id AND a.is_open = 1)
            """, new { pending = ApprovalStatus.Pending, route = ApprovalRoute.InApp }, cancellationToken: ct))).ToList();
    }

    // ---- actions ----

    public Task AddActionAsync(DbTransaction tx, long requestId, int step, string actorCorpId, string actorUserId, string action, string? comment,
        DateTime now, CancellationToken ct) =>
        tx.Connection!.ExecuteAsync(new CommandDefinition("""
            INSERT INTO approval_actions (request_id, step, actor_corp_id, actor_user_id, action, comment, at)
            VALUES (@requestId, @step, @actorCorpId, @actorUserId, @action, @comment, @now)
            """, new { requestId, step, actorCorpId, actorUserId, action, comment, now }, tx, cancellationToken: ct));

    public async Task<IReadOnlyList<ApprovalAction>> ActionsAsync(long requestId, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<ApprovalAction>(new CommandDefinition("""
            SELECT id, request_id, step, actor_corp_id, actor_user_id, action, comment, at
            FROM approval_actions WHERE request_id = @requestId ORDER BY id
            """, new { requestId }, cancellationToken: ct))).ToList();
    }

    // ---- lists ----

    /// <summary>
    /// "待我审批": requests whose open step waits on one of these accounts, newest first, with counts per kind. Both
    /// queries walk the (corp_id, user_id, is_open[, kind], request_id) index of the open assignments; a person has
    /// at most one open assignment per request.
    /// </summary>
    public async Task<(IReadOnlyList<ApprovalListRow> Items, IReadOnlyDictionary<string, int> CountsByKind)> InboxAsync(
        IReadOnlyList<(string CorpId, string UserId)> identities, string? kind, long skip, int take, CancellationToken ct)
    {
        var (where, args) = IdentityFilter.Of(identities, "a.corp_id", "a.user_id", new DynamicParameters(new { kind, skip, take }));
        await using var connection = await db.OpenConnectionAsync(ct);
        var items = (await connection.QueryAsync<ApprovalListRow>(new CommandDefinition($"""
            SELECT r.id, r.kind, r.corp_id, r.title, r.requester_corp_id, r.requester_user_id, r.status, r.route, r.current_step,
                   r.created_at, r.updated_at, r.step_opened_at, r.decided_at
            FROM approval_assignees a JOIN approval_requests r ON r.id = a.request_id
            WHERE a.is_open = 1 AND ({where}) AND (@kind IS NULL OR a.kind = @kind)
            ORDER BY a.request_id DESC LIMIT @take OFFSET @skip
            """, args, cancellationToken: ct))).ToList();
        var counts = (await connection.QueryAsync<(string Kind, int Count)>(new CommandDefinition($"""
            SELECT a.kind, COUNT(*) FROM approval_assignees a
            WHERE a.is_open = 1 AND ({where})
            GROUP BY a.kind
            """, args, cancellationToken: ct))).ToDictionary(c => c.Kind, c => c.Count);
        return (items, counts);
    }

    /// <summary>"我发起的": the requests these accounts submitted, newest first.</summary>
    public async Task<(IReadOnlyList<ApprovalListRow> Items, int Total)> RequestedByAsync(IReadOnlyList<(string CorpId, string UserId)> identities,
        string? kind, string? status, long skip, int take, CancellationToken ct)
    {
        var (mine, parameters) = IdentityFilter.Of(identities, "requester_corp_id", "requester_user_id",
            new DynamicParameters(new { kind, status, skip, take }));
        var where = $"({mine}) AND (@kind IS NULL OR kind = @kind) AND (@status IS NULL OR status = @status)";
        await using var connection = await db.OpenConnectionAsync(ct);
        var items = (await connection.QueryAsync<ApprovalListRow>(new CommandDefinition($"""
            SELECT id, kind, corp_id, title, requester_corp_id, requester_user_id, status, route, current_step, created_at, updated_at,
                   step_opened_at, decided_at
            FROM approval_requests WHERE {where} ORDER BY id DESC LIMIT @take OFFSET @skip
            """, parameters, cancellationToken: ct))).ToList();
        var total = await connection.ExecuteScalarAsync<int>(new CommandDefinition(
            $"SELECT COUNT(*) FROM approval_requests WHERE {where}", parameters, cancellationToken: ct));
        return (items, total);
    }

    // ---- reminders ----

    /// <summary>Approvers whose open assignments opened before <paramref name="before"/>, with those requests' titles (newest first).</summary>
    public async Task<IReadOnlyList<(string CorpId, string UserId, string Name, long RequestId, string Title)>> WaitingSinceAsync(DateTime before,
        CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        return (await connection.QueryAsync<(string, string, string, long, string)>(new CommandDefinition("""
            SELECT a.corp_id, a.user_id, a.name, r.id, r.title
            FROM approval_assignees a JOIN approval_requests r ON r.id = a.request_id
            WHERE a.is_open = 1 AND a.opened_at < @before
            ORDER BY a.corp_id, a.user_id, r.id DESC
            """, new { before }, cancellationToken: ct))).ToList();
    }

    /// <summary>Claims the day's digest for one approver; false when it was sent (or is being sent) already.</summary>
    public async Task<bool> TryClaimReminderAsync(string corpId, string userId, DateOnly day, DateTime now, CancellationToken ct)
    {
        await using var connection = await db.OpenConnectionAsync(ct);
        try
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "INSERT INTO approval_reminders (corp_id, user_id, day, sent_at) VALUES (@corpId, @userId, @day, @now)",
                new { corpId, userId, day, now }, cancellationToken: ct));
            return true;
        }
        catch (DbException ex) when (db.Dialect.IsUniqueViolation(ex))
        {
            return false;
        }
    }
}
