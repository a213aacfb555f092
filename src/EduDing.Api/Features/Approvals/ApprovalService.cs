using System.ComponentModel;
using System.Data.Common;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using EduDing.DingTalk;
using EduDing.DingTalk.Models;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Approvals;

/// <summary>How the approvals feature reaches people: through the notice pipeline (implemented by the notices feature).</summary>
internal interface IApprovalNotifier
{
    /// <summary>Tells the people of a newly opened step that a request waits for them.</summary>
    Task ApproversAsync(ApprovalRequest request, string kindName, IReadOnlyList<Approver> approvers, CancellationToken ct);

    Task RequesterAsync(ApprovalRequest request, ApprovalMessage message, CancellationToken ct);

    /// <summary>One digest of what has waited too long for one approver.</summary>
    Task DigestAsync(string corpId, string userId, string name, IReadOnlyList<(long Id, string Title)> waiting, CancellationToken ct);
}

/// <summary>The outcome of one bulk decision.</summary>
/// <summary>What happened to one request of a bulk approval.</summary>
internal static class BulkOutcomeCode
{
    [Description("已同意")]
    public const string Approved = "approved";

    [Description("已被他人处理或状态已变")]
    public const string Conflict = "conflict";

    [Description("无权审批")]
    public const string Forbidden = "forbidden";

    [Description("未找到")]
    public const string NotFound = "not-found";
}

internal sealed record BulkOutcome(long Id, [property: CodeValues(typeof(BulkOutcomeCode))] string Outcome, string? Detail);

/// <summary>
/// One request/approval mechanism for every feature (docs/approvals.md): submission against the kind's chain, steps
/// resolved from the mirror when they open, decisions in the app (exactly one wins a race) or in DingTalk OA (its
/// events and periodic re-reads move our state), outcomes applied to the feature's subject until they stick, leavers
/// re-resolved, and one reminder digest a day per approver.
/// </summary>
internal sealed class ApprovalService(ApprovalRepository repo, ApprovalKinds kinds, ChainResolver resolver, IApprovalNotifier notifier,
    DingTalkClient client, CorpDirectory corps, OrgDirectory directory, AuditLog audit, IOptions<ApprovalOptions> options,
    TimeProvider time, ILogger<ApprovalService> log)
{
    private const string SystemActor = "system";

    /// <summary>Up to this many first-step approvers are written in the request's own statement batch; more, in their own.</summary>
    private const int MaxAssignedWithRequest = 10;

    private ApprovalOptions Settings => options.Value;

    // ---- chains ----

    /// <summary>The chain a request of this kind in this school follows: the school's, else the bureau's city default, else the kind's.</summary>
    public async Task<EffectiveChain> EffectiveChainAsync(string corpId, string kind, CancellationToken ct)
    {
        var registered = kinds.Get(kind);
        var effective = await repo.ChainsAsync(corpId, kind, ct) switch
        {
            ({ } school, _) => new EffectiveChain(kind, ChainSource.School, school),
            (_, { } city) => new EffectiveChain(kind, ChainSource.City, city),
            _ => new EffectiveChain(kind, ChainSource.Default, registered.DefaultChain),
        };
        // A step the law requires (the child-data officer's) ends every chain of its kind, whatever a school or the
        // bureau configured, and nothing of that kind is approved without it.
        return registered.RequiredLastStep is { } required && (effective.Chain.Steps.Count == 0 ||
                                                               effective.Chain.Steps[^1].Approvers != required.Approvers || effective.Chain.AutoApprove)
            ? effective with { Chain = effective.Chain with { Steps = [.. effective.Chain.Steps.Where(s => s.Approvers != required.Approvers), required], AutoApprove = false } }
            : effective;
    }

    // ---- submission ----

    /// <summary>
    /// Submits a feature's subject for approval by <paramref name="requester"/>. With the chain's auto-approval the
    /// request is approved at once; with an OA process code and a requester on the school's staff it becomes a
    /// DingTalk approval instance; otherwise its first step opens in the app. 409 when the subject was submitted before.
    /// </summary>
    public async Task<ApprovalRequest> SubmitAsync(ApprovalSubmission submission, (string CorpId, string UserId) requester,
        CancellationToken ct)
    {
        var kind = kinds.Get(submission.Kind);
        var chain = (await EffectiveChainAsync(submission.CorpId, submission.Kind, ct)).Chain;
        // A second submission of the subject is refused by the unique key; it is looked for first only where it would
        // otherwise start an OA instance in DingTalk for nothing.
        var mayStartInstance = !chain.AutoApprove && !string.IsNullOrWhiteSpace(chain.ProcessCode);
        if (mayStartInstance && await repo.FindBySubjectAsync(submission.Kind, submission.SubjectId, ct) is not null)
        {
            throw AlreadySubmitted(kind);
        }

        var instanceId = mayStartInstance ? await TryStartInstanceAsync(submission, kind, chain, requester, ct) : null;
        var now = time.UtcNowForDatabase();
        var (id, opened, pending) = await SubmitOnceAsync(submission, kind, chain, requester, instanceId, now, ct);
        return pending ?? await AfterChangeAsync(id, opened, ct);
    }

    /// <summary>
    /// For a feature that writes its subject and the request in one transaction (so that neither exists without the
    /// other): the chain and the first step's approvers, read before that transaction, which then holds one connection
    /// only. Null when the chain approves at once or may start a DingTalk OA instance: those go through
    /// <see cref="SubmitAsync"/> after the feature's own transaction.
    /// </summary>
    public async Task<PreparedSubmission?> PrepareInAppAsync(string kind, string corpId, long? classId, CancellationToken ct)
    {
        var chain = (await EffectiveChainAsync(corpId, kind, ct)).Chain;
        if (chain.AutoApprove || chain.Steps.Count == 0 || !string.IsNullOrWhiteSpace(chain.ProcessCode))
        {
            return null;
        }

        var (people, escalated) = await ResolveStepAsync(chain.Steps[0], corpId, classId, new HashSet<(string, string)>(), ct);
        return new PreparedSubmission(kind, corpId, classId, chain, people, escalated);
    }

    /// <summary>
    /// Writes the request of <paramref name="prepared"/> inside the feature's transaction, its first step open in the
    /// app; after the commit the feature calls <see cref="CompleteAsync"/>. A second submission of the subject fails
    /// on the unique key like any other write of that transaction.
    /// </summary>
    public async Task<SubmittedRequest> SubmitInTransactionAsync(DbTransaction tx, PreparedSubmission prepared, ApprovalSubmission submission,
        (string CorpId, string UserId) requester, DateTime now, CancellationToken ct)
    {
        if (submission.Kind != prepared.Kind || submission.CorpId != prepared.CorpId || submission.ClassId != prepared.ClassId)
        {
            throw new InvalidOperationException($"The submission of {submission.SubjectId} was not the one prepared.");
        }

        if (!prepared.Escalated && prepared.FirstStep.Count <= MaxAssignedWithRequest)
        {
            // The busy case (an application's class adviser): the approvers are written in the request's own round trip.
            return new SubmittedRequest(await repo.InsertRequestAsync(tx, submission, requester.CorpId, requester.UserId, ApprovalRoute.InApp,
                prepared.Chain.Steps, now, ct, prepared.FirstStep), prepared.FirstStep);
        }

        var request = await repo.InsertRequestAsync(tx, submission, requester.CorpId, requester.UserId, ApprovalRoute.InApp, prepared.Chain.Steps, now, ct);
        return new SubmittedRequest(request, await AssignAsync(tx, request, 0, prepared.FirstStep, prepared.Escalated, now, ct));
    }

    /// <summary>After the feature's commit: the first step's approvers are messaged where the kind does so per request.</summary>
    public async Task<ApprovalRequest> CompleteAsync(SubmittedRequest submitted, CancellationToken ct) =>
        submitted.Opened.Count > 0 && kinds.Get(submitted.Request.Kind).MessagesApproversPerRequest
            ? await AfterChangeAsync(submitted.Request.Id, submitted.Opened, ct)
            : submitted.Request;

    private static ConflictException AlreadySubmitted(IApprovalKind kind) => new($"This {kind.DisplayName} was already submitted for approval.", reason: "already_submitted");

    /// <summary>The new request's id, the approvers of its first step and, when it waits for them in the app, the request as stored.</summary>
    private async Task<(long Id, IReadOnlyList<Approver> Opened, ApprovalRequest? Pending)> SubmitOnceAsync(ApprovalSubmission submission, IApprovalKind kind,
        ApprovalChain chain, (string CorpId, string UserId) requester, string? instanceId, DateTime now, CancellationToken ct)
    {
        // The first step's approvers are read from the directory before the transaction, which then holds one
        // connection only (a second one taken inside it could wait forever for a pool that every such request holds).
        (IReadOnlyList<Approver> People, bool Escalated)? firstStep = chain.AutoApprove || chain.Steps.Count == 0 || instanceId is not null
            ? null
            : await ResolveStepAsync(chain.Steps[0], submission.CorpId, submission.ClassId, new HashSet<(string, string)>(), ct);
        try
        {
            return await repo.Database.InTransactionAsync(async (tx, token) => await InsertAsync(tx, token), ct);
        }
        catch (DbException ex) when (repo.Database.Dialect.IsUniqueViolation(ex))
        {
            throw AlreadySubmitted(kind);
        }

        async Task<(long, IReadOnlyList<Approver>, ApprovalRequest?)> InsertAsync(DbTransaction tx, CancellationToken token)
        {
            var route = instanceId is null ? ApprovalRoute.InApp : ApprovalRoute.DingTalk;
            var request = await repo.InsertRequestAsync(tx, submission, requester.CorpId, requester.UserId, route, chain.Steps, now, token);
            var id = request.Id;
            if (chain.AutoApprove || chain.Steps.Count == 0)
            {
                await repo.AddActionAsync(tx, id, 0, SystemActor, SystemActor, "auto-approve", null, now, token);
                await repo.SetStatusAsync(tx, id, ApprovalStatus.Approved, now, final: true, token);
                return (id, [], null);
            }

            if (instanceId is not null)
            {
                await repo.SetRouteAsync(tx, id, ApprovalRoute.DingTalk, instanceId, now, token);
                await repo.AddActionAsync(tx, id, 0, SystemActor, SystemActor, "dingtalk", $"DingTalk OA instance {instanceId}", now, token);
                return (id, [], null);
            }

            // The request was inserted with its first step open; only its approvers, found before the transaction, are added.
            var opened = await AssignAsync(tx, request, 0, firstStep!.Value.People, firstStep.Value.Escalated, now, token);
            return (id, opened, opened.Count > 0 && kind.MessagesApproversPerRequest ? null : request);
        }
    }

    /// <summary>
    /// Starts the DingTalk OA instance when the school routes this kind there: the requester must be on the school's
    /// staff (guardians are not in the 通讯录), and every approver in the school's corp. Otherwise, or when DingTalk
    /// refuses, the request is decided in the app (null).
    /// </summary>
    private async Task<string?> TryStartInstanceAsync(ApprovalSubmission submission, IApprovalKind kind, ApprovalChain chain,
        (string CorpId, string UserId) requester, CancellationToken ct)
    {
        if (string.IsNullOrWhiteSpace(chain.ProcessCode) || corps.Find(submission.CorpId) is not { } corp || requester.CorpId != corp.CorpId
            || (await directory.CurrentStaffAsync(corp.CorpId, [requester.UserId], ct)).Count == 0)
        {
            return null;
        }

        var nodes = new List<ProcessApprover>();
        var taken = new HashSet<(string, string)>();
        foreach (var step in chain.Steps)
        {
            var people = await resolver.ResolveAsync(step, corp.CorpId, submission.ClassId, taken, ct);
            if (people.Count == 0)
            {
                people = await resolver.EscalateAsync(step, corp.CorpId, taken, ct);
            }

            if (people.Count == 0 || people.Any(p => p.CorpId != corp.CorpId))
            {
                return null;
            }

            taken.UnionWith(people.Select(p => (p.CorpId, p.UserId)));
            nodes.Add(new ProcessApprover(people.Count == 1 ? "NONE" : step.Mode == StepMode.All ? "AND" : "OR",
                people.Take(20).Select(p => p.UserId).ToList()));
        }

        try
        {
            return await client.CreateProcessInstanceAsync(corp.App, new CreateProcessInstanceRequest(requester.UserId, chain.ProcessCode,
                [
                    new FormComponentValue("申请事项", $"{kind.DisplayName}：{submission.Title}"),
                    new FormComponentValue("详情", string.IsNullOrWhiteSpace(submission.Summary) ? submission.Title : submission.Summary),
                ], DeptId: -1, MicroappAgentId: corp.App.AgentId, Approvers: nodes.Take(20).ToList()), ct);
        }
        catch (Exception ex) when (ex is DingTalkException or HttpRequestException or TimeoutException or DependencyUnavailableException)
        {
            log.LogWarning("DingTalk did not start an OA instance for {Kind} {Subject} of {CorpId} ({Reason}); it is decided in the app",
                submission.Kind, submission.SubjectId, corp.CorpId, ex.Message);
            return null;
        }
    }

    /// <summary>
    /// A request that could not start in DingTalk (its requester, a guardian, is not in the 通讯录) moves there once a
    /// step is passed by someone on the school's staff: the remaining steps become an OA instance that person starts,
    /// and the step just opened in the app is closed. Nothing moves when the school has no process code for the kind,
    /// DingTalk refuses, or the step was acted on meanwhile (then the instance is left and logged).
    /// </summary>
    private async Task<bool> TryHandOverAsync(long id, (string CorpId, string UserId) decider, CancellationToken ct)
    {
        var request = await repo.FindAsync(id, ct);
        if (request is not { Status: ApprovalStatus.Pending, Route: ApprovalRoute.InApp } || decider.CorpId != request.CorpId)
        {
            return false;
        }

        var chain = (await EffectiveChainAsync(request.CorpId, request.Kind, ct)).Chain;
        if (string.IsNullOrWhiteSpace(chain.ProcessCode))
        {
            return false;
        }

        var remaining = new ApprovalChain(ApprovalRepository.ReadSteps(request.Steps).Skip(request.CurrentStep).ToList(), ProcessCode: chain.ProcessCode);
        var instanceId = await TryStartInstanceAsync(new ApprovalSubmission(request.Kind, request.CorpId, request.SubjectId, request.Title, request.Summary,
            request.ClassId), kinds.Get(request.Kind), remaining, decider, ct);
        if (instanceId is null)
        {
            return false;
        }

        var now = time.UtcNowForDatabase();
        var moved = await repo.Database.InTransactionAsync(async (tx, token) =>
        {
            if (!await repo.TryTakeAsync(tx, id, ApprovalStatus.Pending, ApprovalRoute.InApp, now, token))
            {
                return false;
            }

            var current = await repo.GetAsync(tx, id, token);
            if (current.CurrentStep != request.CurrentStep ||
                (await repo.AssigneesAsync(tx, id, token)).Any(a => a.Step == current.CurrentStep && a.Decision is not null))
            {
                return false;
            }

            await repo.CloseOpenAsync(tx, id, now, token);
            await repo.SetRouteAsync(tx, id, ApprovalRoute.DingTalk, instanceId, now, token);
            await repo.AddActionAsync(tx, id, current.CurrentStep, SystemActor, SystemActor, "dingtalk",
                $"DingTalk OA instance {instanceId}, started by {decider.UserId} for the remaining steps", now, token);
            return true;
        }, ct);
        if (!moved)
        {
            log.LogWarning("Request {Id} was acted on in the app while OA instance {Instance} was being started; the instance is left in DingTalk",
                id, instanceId);
        }

        return moved;
    }

    /// <summary>Opens step <paramref name="step"/>: resolves its people (escalating an empty pool) and makes them its open assignees.</summary>
    private async Task<IReadOnlyList<Approver>> OpenStepAsync(DbTransaction tx, ApprovalRequest request, int step, DateTime now, CancellationToken ct,
        bool reopening = false)
    {
        var taken = (await repo.AssigneesAsync(tx, request.Id, ct)).Where(a => a.Step == step).Select(a => (a.CorpId, a.UserId)).ToHashSet();
        var (people, escalated) = await ResolveStepAsync(ApprovalRepository.ReadSteps(request.Steps)[step], request.CorpId, request.ClassId, taken, ct);
        if (people.Count == 0 && reopening)
        {
            // Still nobody: the step keeps waiting, and the worker looks again next round without adding to the history.
            return [];
        }

        await repo.OpenStepAsync(tx, request.Id, step, now, ct);
        return await AssignAsync(tx, request, step, people, escalated, now, ct);
    }

    /// <summary>Who decides a step: the step's people, else (escalated) the school's admins, else nobody yet.</summary>
    private async Task<(IReadOnlyList<Approver> People, bool Escalated)> ResolveStepAsync(ApprovalStep step, string corpId, long? classId,
        IReadOnlySet<(string, string)> taken, CancellationToken ct)
    {
        var people = await resolver.ResolveAsync(step, corpId, classId, taken, ct);
        return people.Count > 0 ? (people, false) : (await resolver.EscalateAsync(step, corpId, taken, ct), true);
    }

    private async Task<IReadOnlyList<Approver>> AssignAsync(DbTransaction tx, ApprovalRequest request, int step,
        IReadOnlyList<Approver> people, bool escalated, DateTime now, CancellationToken ct)
    {
        if (escalated)
        {
            var waitsFor = ApprovalRepository.ReadSteps(request.Steps)[step].Approvers == ApproverSource.ChildDataOfficer
                ? "the step waits for a child-data officer (Identity:ChildDataOfficers) who is in the mirror"
                : "the step waits for the mirror to have an admin";
            await repo.AddActionAsync(tx, request.Id, step, SystemActor, SystemActor, people.Count == 0 ? "no-approver" : "escalate",
                people.Count == 0 ? $"nobody to decide: {waitsFor}" : "the step's approvers are gone", now, ct);
        }

        await repo.AddAssigneesAsync(tx, request, step, people, now, ct);
        return people;
    }

    // ---- decisions ----

    /// <summary>
    /// One approver's decision on the open step: approve, reject (a reason is required) or return for changes. Exactly
    /// one decision settles an "any" step: a concurrent one gets 409. 403 for someone who is not an approver of it.
    /// </summary>
    public async Task<ApprovalRequest> DecideAsync(Caller caller, long id, string decision, string? comment, CancellationToken ct)
    {
        var now = time.UtcNowForDatabase();
        (string CorpId, string UserId) decider = default;
        var (settled, opened) = await repo.Database.InTransactionAsync(async (tx, token) =>
        {
            if (!await repo.TryTakeAsync(tx, id, ApprovalStatus.Pending, ApprovalRoute.InApp, now, token))
            {
                throw await NotDecidableAsync(caller, id, token);
            }

            var request = await repo.GetAsync(tx, id, token);
            var assignees = await repo.AssigneesAsync(tx, id, token);
            var mine = assignees.FirstOrDefault(a => a.Step == request.CurrentStep && a.IsOpen && caller.Identities.Contains((a.CorpId, a.UserId)));
            if (mine is null)
            {
                throw assignees.Any(a => caller.Identities.Contains((a.CorpId, a.UserId)))
                    ? new ConflictException($"Request {id} has moved on: your step was already decided.", "该申请已由他人处理，请刷新查看。", reason: "step_decided")
                    : new ForbiddenException("Missing scope: an approver of this request's open step.");
            }

            // Checked once the caller is known to be an approver, so that nobody else learns more than a refusal.
            if (decision is ApprovalDecision.Reject or ApprovalDecision.Return && string.IsNullOrWhiteSpace(comment))
            {
                throw new RequestValidationException("reason", $"is required to {decision} a request");
            }

            if (comment is { Length: > 500 })
            {
                throw new RequestValidationException(decision == ApprovalDecision.Approve ? "comment" : "reason", "at most 500 characters");
            }

            decider = (mine.CorpId, mine.UserId);
            await repo.DecideAsync(tx, id, mine.Step, mine.CorpId, mine.UserId, decision, now, token);
            await repo.AddActionAsync(tx, id, mine.Step, mine.CorpId, mine.UserId, decision, comment?.Trim(), now, token);
            switch (decision)
            {
                case ApprovalDecision.Reject:
                    await repo.CloseOpenAsync(tx, id, now, token);
                    await repo.SetStatusAsync(tx, id, ApprovalStatus.Rejected, now, final: true, token);
                    return (true, (IReadOnlyList<Approver>)[]);
                case ApprovalDecision.Return:
                    await repo.CloseOpenAsync(tx, id, now, token);
                    await repo.SetStatusAsync(tx, id, ApprovalStatus.Returned, now, final: false, token);
                    return (true, (IReadOnlyList<Approver>)[]);
                default:
                    var step = ApprovalRepository.ReadSteps(request.Steps)[request.CurrentStep];
                    var stillOpen = assignees.Count(a => a.Step == request.CurrentStep && a.IsOpen) - 1;
                    if (step.Mode == StepMode.All && stillOpen > 0)
                    {
                        return (false, (IReadOnlyList<Approver>)[]);
                    }

                    return await CompleteStepAsync(tx, request, now, token);
            }
        }, ct);

        if (opened.Count > 0 && await TryHandOverAsync(id, decider, ct))
        {
            opened = [];
        }

        // Only the decision that settled the request hands its outcome on: the others of an "all" step, deciding at the
        // same moment, may see it settled too, and the requester is told once.
        var result = await AfterChangeAsync(id, opened, ct, applyOutcome: settled);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, $"approval.{decision}", result.CorpId, [],
            $"{result.Kind} {result.SubjectId} (request {id}, {result.Title}){(string.IsNullOrWhiteSpace(comment) ? "" : ": " + comment)}",
            AuditLog.Allowed, ct);
        return result;
    }

    /// <summary>Closes the current step and opens the next, or approves the request after the last.</summary>
    private async Task<(bool Final, IReadOnlyList<Approver> Opened)> CompleteStepAsync(DbTransaction tx, ApprovalRequest request, DateTime now,
        CancellationToken ct)
    {
        await repo.CloseOpenAsync(tx, request.Id, now, ct);
        var next = request.CurrentStep + 1;
        if (next >= ApprovalRepository.ReadSteps(request.Steps).Count)
        {
            await repo.SetStatusAsync(tx, request.Id, ApprovalStatus.Approved, now, final: true, ct);
            return (true, []);
        }

        return (false, await OpenStepAsync(tx, request, next, now, ct));
    }

    /// <summary>Why the request cannot be decided now: 404 when there is none, 403 for someone never asked to decide it, else 409.</summary>
    private async Task<Exception> NotDecidableAsync(Caller caller, long id, CancellationToken ct)
    {
        var request = await repo.FindAsync(id, ct);
        if (request is null)
        {
            return new NotFoundException($"No approval request {id}.");
        }

        if (request.Route == ApprovalRoute.InApp &&
            !(await repo.AssigneesAsync(id, ct)).Any(a => caller.Identities.Contains((a.CorpId, a.UserId))))
        {
            return new ForbiddenException("Missing scope: an approver of this request.");
        }

        return request is { Status: ApprovalStatus.Pending, Route: ApprovalRoute.DingTalk }
            ? new ConflictException($"Request {id} is decided in DingTalk (OA approval); act on it there.", "该申请走钉钉 OA 审批，请在钉钉审批中处理。", reason: "decided_in_dingtalk")
            : new ConflictException($"Request {id} is {request.Status}, not awaiting a decision.", "该申请已处理完毕，不需要再审批。", reason: "not_pending");
    }

    /// <summary>Approves each of <paramref name="ids"/> the caller may decide; the others are reported with why not.</summary>
    public async Task<IReadOnlyList<BulkOutcome>> BulkApproveAsync(Caller caller, IReadOnlyList<long> ids, string? comment, CancellationToken ct)
    {
        var outcomes = new List<BulkOutcome>();
        foreach (var id in ids.Distinct())
        {
            try
            {
                var request = await DecideAsync(caller, id, ApprovalDecision.Approve, comment, ct);
                outcomes.Add(new BulkOutcome(id, BulkOutcomeCode.Approved, request.Status));
            }
            catch (Exception ex) when (ex is ConflictException or ForbiddenException or NotFoundException)
            {
                outcomes.Add(new BulkOutcome(id, ex switch { ConflictException => BulkOutcomeCode.Conflict, ForbiddenException => BulkOutcomeCode.Forbidden, _ => BulkOutcomeCode.NotFound },
                    ex.Message));
            }
        }

        return outcomes;
    }

    /// <summary>The requester takes back a request not yet decided (pending in the app, or returned to them).</summary>
    public async Task<ApprovalRequest> WithdrawAsync(Caller caller, long id, CancellationToken ct)
    {
        var request = await RequireRequesterAsync(caller, id, ct);
        var now = time.UtcNowForDatabase();
        await repo.Database.InTransactionAsync(async (tx, token) =>
        {
            if (!await repo.TryTakeAsync(tx, id, ApprovalStatus.Pending, ApprovalRoute.InApp, now, token) &&
                !await repo.TryTakeAsync(tx, id, ApprovalStatus.Returned, ApprovalRoute.InApp, now, token))
            {
                throw request.Route == ApprovalRoute.DingTalk
                    ? new ConflictException($"Request {id} is decided in DingTalk (OA approval); withdraw (撤销) it there.", "该申请走钉钉 OA 审批，请在钉钉审批中撤销。", reason: "decided_in_dingtalk")
                    : new ConflictException($"Request {id} was decided already; it cannot be withdrawn.", "申请已有审批结果，不能撤回。", reason: "already_decided");
            }

            var current = await repo.GetAsync(tx, id, token);
            await repo.CloseOpenAsync(tx, id, now, token);
            await repo.AddActionAsync(tx, id, current.CurrentStep, request.RequesterCorpId, request.RequesterUserId, "withdraw", null, now, token);
            await repo.SetStatusAsync(tx, id, ApprovalStatus.Withdrawn, now, final: true, token);
        }, ct);
        return await AfterChangeAsync(id, [], ct);
    }

    /// <summary>The requester sends a returned request back: the chain starts again from its first step.</summary>
    public async Task<ApprovalRequest> ResubmitAsync(Caller caller, long id, string? comment, CancellationToken ct)
    {
        var request = await RequireRequesterAsync(caller, id, ct);
        if (comment is { Length: > 500 })
        {
            throw new RequestValidationException("comment", "at most 500 characters");
        }

        var now = time.UtcNowForDatabase();
        var opened = await repo.Database.InTransactionAsync(async (tx, token) =>
        {
            if (!await repo.TryTakeAsync(tx, id, ApprovalStatus.Returned, ApprovalRoute.InApp, now, token))
            {
                throw new ConflictException($"Request {id} is not returned for changes; only a returned request is resubmitted.", "只有被退回的申请可以重新提交。", reason: "not_returned");
            }

            await repo.AddActionAsync(tx, id, 0, request.RequesterCorpId, request.RequesterUserId, "resubmit", comment?.Trim(), now, token);
            await repo.SetStatusAsync(tx, id, ApprovalStatus.Pending, now, final: false, token);
            await repo.ClearAssigneesAsync(tx, id, token);
            return await OpenStepAsync(tx, await repo.GetAsync(tx, id, token), 0, now, token);
        }, ct);
        return await AfterChangeAsync(id, opened, ct);
    }

    private async Task<ApprovalRequest> RequireRequesterAsync(Caller caller, long id, CancellationToken ct)
    {
        var request = await repo.FindAsync(id, ct);
        return request is not null && caller.Identities.Contains((request.RequesterCorpId, request.RequesterUserId))
            ? request
            : throw new NotFoundException($"No approval request {id} of yours.");
    }

    /// <summary>After a committed change: tell the newly opened step, and apply and announce an outcome.</summary>
    private async Task<ApprovalRequest> AfterChangeAsync(long id, IReadOnlyList<Approver> opened, CancellationToken ct, bool applyOutcome = true)
    {
        var request = (await repo.FindAsync(id, ct))!;
        if (opened.Count > 0 && kinds.Get(request.Kind) is { MessagesApproversPerRequest: true } kind)
        {
            await notifier.ApproversAsync(request, kind.DisplayName, opened, ct);
        }

        if (request.Status == ApprovalStatus.Pending || !applyOutcome)
        {
            return request;
        }

        await ApplyOutcomeAsync(request, notify: true, ct);
        return (await repo.FindAsync(id, ct))!;
    }

    /// <summary>Hands the outcome to the feature (until it sticks: the worker retries) and tells the requester once.</summary>
    private async Task ApplyOutcomeAsync(ApprovalRequest request, bool notify, CancellationToken ct)
    {
        var kind = kinds.Get(request.Kind);
        var decision = (await repo.ActionsAsync(request.Id, ct)).LastOrDefault(a => a.Action is ApprovalDecision.Approve
            or ApprovalDecision.Reject or ApprovalDecision.Return or "withdraw" or "auto-approve");
        try
        {
            await kind.ApplyOutcomeAsync(request, decision, ct);
            await repo.MarkOutcomeAppliedAsync(request.Id, request.Version, time.UtcNowForDatabase(), ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning("Applying the outcome {Status} of approval request {Id} ({Kind}) failed ({Reason}); it is retried", request.Status,
                request.Id, request.Kind, ex.Message);
            return;
        }

        if (notify)
        {
            await notifier.RequesterAsync(request, kind.OutcomeMessage(request, decision) ?? GenericMessage(request, kind, decision?.Comment), ct);
        }
    }

    private ApprovalMessage GenericMessage(ApprovalRequest request, IApprovalKind kind, string? comment)
    {
        var (title, body) = request.Status switch
        {
            ApprovalStatus.Approved => ($"{kind.DisplayName}已通过：{request.Title}", "您的申请已通过审批。"),
            ApprovalStatus.Rejected => ($"{kind.DisplayName}未通过：{request.Title}", $"您的申请未通过审批。{comment}"),
            ApprovalStatus.Returned => ($"{kind.DisplayName}需修改：{request.Title}", $"审批人退回了您的申请，请修改后重新提交。{comment}"),
            _ => ($"{kind.DisplayName}已撤回：{request.Title}", "您的申请已撤回。"),
        };
        return new ApprovalMessage("approval", title, body, string.Format(System.Globalization.CultureInfo.InvariantCulture,
            Settings.RequestPage, request.Id));
    }

    // ---- DingTalk OA ----

    /// <summary>Re-reads one OA instance and moves the request to where DingTalk says it is (events only say "look again").</summary>
    public async Task RefreshInstanceAsync(CorpConfig corp, string processInstanceId, CancellationToken ct)
    {
        var request = await repo.FindByInstanceAsync(processInstanceId, ct);
        if (request is null || request.CorpId != corp.CorpId)
        {
            return;
        }

        var instance = await client.GetProcessInstanceAsync(corp.App, processInstanceId, ct);
        await ApplyInstanceAsync(request, instance, ct);
    }

    private async Task ApplyInstanceAsync(ApprovalRequest request, ProcessInstance instance, CancellationToken ct)
    {
        var status = instance.Status switch
        {
            "COMPLETED" when instance.Result == "agree" => ApprovalStatus.Approved,
            "COMPLETED" => ApprovalStatus.Rejected,
            "TERMINATED" => ApprovalStatus.Withdrawn,
            _ => null,
        };
        if (status is null)
        {
            return;
        }

        var decider = instance.Tasks?.Where(t => t.Result is "AGREE" or "REFUSE" or "agree" or "refuse").LastOrDefault()?.UserId
                      ?? instance.OriginatorUserId;
        var remark = instance.OperationRecords?.LastOrDefault(r => !string.IsNullOrWhiteSpace(r.Remark))?.Remark;
        var now = time.UtcNowForDatabase();
        var changed = await repo.Database.InTransactionAsync(async (tx, token) =>
        {
            if (!await repo.TryTakeAsync(tx, request.Id, ApprovalStatus.Pending, ApprovalRoute.DingTalk, now, token))
            {
                return false;
            }

            await repo.AddActionAsync(tx, request.Id, request.CurrentStep, request.CorpId, decider,
                status switch { ApprovalStatus.Approved => "approve", ApprovalStatus.Rejected => "reject", _ => "withdraw" },
                remark is null ? "in DingTalk" : $"in DingTalk: {remark}", now, token);
            await repo.SetStatusAsync(tx, request.Id, status, now, final: true, token);
            return true;
        }, ct);
        if (changed)
        {
            await ApplyOutcomeAsync((await repo.FindAsync(request.Id, ct))!, notify: true, ct);
        }
    }

    // ---- background work ----

    /// <summary>What the worker does each round; each part is safe with several instances running.</summary>
    public async Task RunDueAsync(CancellationToken ct)
    {
        await ApplyPendingOutcomesAsync(ct);
        await ReResolveDepartedAsync(ct);
        await RecheckInstancesAsync(ct);
        await SendRemindersAsync(ct);
    }

    /// <summary>Outcomes the feature has not taken yet (it failed, or an instance stopped between deciding and applying).</summary>
    public async Task<int> ApplyPendingOutcomesAsync(CancellationToken ct)
    {
        var due = await repo.UnappliedAsync(time.UtcNowForDatabase().AddSeconds(-30), 100, ct);
        foreach (var request in due)
        {
            await ApplyOutcomeAsync(request, notify: false, ct);
        }

        return due.Count;
    }

    /// <summary>
    /// Open assignments of people the mirror no longer has are closed; a step left without anyone to decide it is
    /// re-resolved (escalated when empty), and an "all" step whose remaining approvers all agreed is complete.
    /// </summary>
    public async Task<int> ReResolveDepartedAsync(CancellationToken ct)
    {
        var departed = await resolver.DepartedAsync(await repo.OpenApproversAsync(ct), ct);
        var requests = new SortedSet<long>(await repo.WithoutApproverAsync(ct));
        foreach (var (corpId, userId) in departed)
        {
            requests.UnionWith(await repo.OpenRequestsOfAsync(corpId, userId, ct));
        }

        var touched = 0;
        foreach (var requestId in requests)
        {
            var now = time.UtcNowForDatabase();
            var outcome = await repo.Database.InTransactionAsync<(bool Final, IReadOnlyList<Approver> Opened)?>(async (tx, token) =>
            {
                if (!await repo.TryTakeAsync(tx, requestId, ApprovalStatus.Pending, ApprovalRoute.InApp, now, token))
                {
                    return null;
                }

                var request = await repo.GetAsync(tx, requestId, token);
                foreach (var gone in (await repo.AssigneesAsync(tx, requestId, token)).Where(a => a.IsOpen && departed.Contains((a.CorpId, a.UserId))))
                {
                    await repo.CloseDepartedAsync(tx, requestId, gone.CorpId, gone.UserId, now, token);
                    await repo.AddActionAsync(tx, requestId, gone.Step, gone.CorpId, gone.UserId, "left", "left the organization", now, token);
                }

                var inStep = (await repo.AssigneesAsync(tx, requestId, token)).Where(a => a.Step == request.CurrentStep).ToList();
                if (inStep.Any(a => a.IsOpen))
                {
                    return (false, []);
                }

                var step = ApprovalRepository.ReadSteps(request.Steps)[request.CurrentStep];
                if (step.Mode == StepMode.All && inStep.Any(a => a.Decision == ApprovalDecision.Approve))
                {
                    return await CompleteStepAsync(tx, request, now, token);
                }

                return (false, await OpenStepAsync(tx, request, request.CurrentStep, now, token, reopening: true));
            }, ct);
            if (outcome is { } changed)
            {
                touched++;
                await AfterChangeAsync(requestId, changed.Opened, ct);
            }
        }

        return touched;
    }

    /// <summary>Re-reads open OA instances not checked for a while, so that a missed bpms event leaves nothing stuck.</summary>
    public async Task<int> RecheckInstancesAsync(CancellationToken ct)
    {
        var now = time.UtcNowForDatabase();
        var claimed = await repo.ClaimInstanceChecksAsync(now, now - Settings.InstanceRecheckInterval, 50, ct);
        foreach (var request in claimed)
        {
            if (corps.Find(request.CorpId) is not { } corp || request.ProcessInstanceId is null)
            {
                continue;
            }

            try
            {
                await ApplyInstanceAsync(request, await client.GetProcessInstanceAsync(corp.App, request.ProcessInstanceId, ct), ct);
            }
            catch (Exception ex) when (ex is DingTalkException or HttpRequestException or TimeoutException or DependencyUnavailableException)
            {
                log.LogWarning("Re-reading OA instance {Instance} of request {Id} failed ({Reason}); tried again later", request.ProcessInstanceId,
                    request.Id, ex.Message);
            }
        }

        return claimed.Count;
    }

    /// <summary>
    /// One digest a Beijing day to each approver with requests waiting longer than Approvals:RemindAfter (from
    /// Approvals:RemindFrom on), claimed in the database so that several instances send it once.
    /// </summary>
    public async Task<int> SendRemindersAsync(CancellationToken ct)
    {
        var now = time.UtcNowForDatabase();
        if (TimeOnly.FromDateTime(ShanghaiTime.FromUtc(now).DateTime) < Settings.RemindFrom)
        {
            return 0;
        }

        var today = ShanghaiTime.DayOf(now);
        var sent = 0;
        foreach (var approver in (await repo.WaitingSinceAsync(now - Settings.RemindAfter, ct)).GroupBy(w => (w.CorpId, w.UserId)))
        {
            if (!await repo.TryClaimReminderAsync(approver.Key.CorpId, approver.Key.UserId, today, now, ct))
            {
                continue;
            }

            await notifier.DigestAsync(approver.Key.CorpId, approver.Key.UserId, approver.First().Name,
                approver.Select(w => (w.RequestId, w.Title)).ToList(), ct);
            sent++;
        }

        return sent;
    }
}
