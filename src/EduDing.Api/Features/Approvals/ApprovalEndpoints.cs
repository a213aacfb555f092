using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Approvals;

internal sealed record ApprovalPersonDto(string CorpId, string UserId);

internal sealed record ApprovalListItemDto(long Id, [property: CodeValues(typeof(ApprovalKindNames))] string Kind, string KindName, string CorpId, string Title, ApprovalPersonDto Requester,
    [property: CodeValues(typeof(ApprovalStatus))] string Status, string Route, int CurrentStep, DateTime CreatedAt, DateTime UpdatedAt, DateTime WaitingSince, DateTime? DecidedAt);

/// <summary>"待我审批": one page of what waits for the caller, newest first, and how many per kind in all.</summary>
internal sealed record InboxDto(IReadOnlyList<ApprovalListItemDto> Items, int Page, int PageSize, int Total,
    IReadOnlyDictionary<string, int> CountsByKind);

internal sealed record AssigneeDto(string CorpId, string UserId, string Name, string How, bool Open, [property: CodeValues(typeof(ApprovalDecision))] string? Decision, DateTime OpenedAt,
    DateTime? ClosedAt);

internal sealed record ApprovalStepDto(int Index, string Approvers, [property: CodeValues(typeof(StepMode))] string Mode, IReadOnlyList<AssigneeDto> Assignees);

internal sealed record ApprovalActionDto(DateTime At, int Step, ApprovalPersonDto Actor, string Action, string? Comment);

internal sealed record ApprovalDto(long Id, [property: CodeValues(typeof(ApprovalKindNames))] string Kind, string KindName, string CorpId, string SubjectId, long? ClassId, string Title,
    string? Summary, ApprovalPersonDto Requester, [property: CodeValues(typeof(ApprovalStatus))] string Status, string Route, int CurrentStep, DateTime CreatedAt, DateTime UpdatedAt,
    DateTime? DecidedAt, IReadOnlyList<ApprovalStepDto> Steps, IReadOnlyList<ApprovalActionDto> Actions);

internal sealed record ApproveRequest(string? Comment);

[RequestSchema("reason")]
internal sealed record ReasonRequest(string? Reason);

[RequestSchema("ids")]
internal sealed record BulkApproveRequest(IReadOnlyList<long>? Ids, string? Comment);

internal sealed record BulkApproveDto(IReadOnlyList<BulkOutcome> Results);

internal sealed record ChainStepDto(string Approvers, [property: CodeValues(typeof(StepMode))] string Mode, string? CorpId, IReadOnlyList<string>? UserIds);

[RequestSchema("steps")]
internal sealed record ChainRequest(IReadOnlyList<ChainStepDto?>? Steps, bool? AutoApprove, string? ProcessCode);

internal sealed record ChainDto([property: CodeValues(typeof(ApprovalKindNames))] string Kind, string KindName,
    [property: CodeValues(typeof(ChainSource))] string Source, IReadOnlyList<ChainStepDto> Steps, bool AutoApprove,
    string? ProcessCode)
{
    public static ChainDto From(EffectiveChain c, string kindName) => new(c.Kind, kindName, c.Source,
        c.Chain.Steps.Select(s => new ChainStepDto(s.Approvers, s.Mode, s.CorpId, s.UserIds)).ToList(), c.Chain.AutoApprove, c.Chain.ProcessCode);
}

/// <remarks>
/// Requests and decisions for every kind (docs/approvals.md): any person reaches these handlers, which answer by the
/// caller's part in the request (requester, approver of a step, admin of the school) and 404 for requests that are
/// none of theirs, so ids reveal nothing.
/// </remarks>
internal static class ApprovalEndpoints
{
    public static IEndpointRouteBuilder MapApprovalEndpoints(this IEndpointRouteBuilder app)
    {
        var mine = app.MapGroup("/api/me/approvals").WithTags("Approvals");
        mine.MapGet("/inbox", InboxAsync).RequireAudience(Audience.Person).WithName("Approvals_Inbox");
        mine.MapGet("/requests", MyRequestsAsync).RequireAudience(Audience.Person).WithName("Approvals_MyRequests");

        var requests = app.MapGroup("/api/approvals").WithTags("Approvals");
        requests.MapGet("/{id:long}", GetAsync).RequireAudience(Audience.Person).WithName("Approvals_Get");
        requests.MapPost("/{id:long}/approve", ApproveAsync).RequireAudience(Audience.Person).WithName("Approvals_Approve");
        requests.MapPost("/{id:long}/reject", RejectAsync).RequireAudience(Audience.Person).WithName("Approvals_Reject");
        requests.MapPost("/{id:long}/return", ReturnAsync).RequireAudience(Audience.Person).WithName("Approvals_Return");
        requests.MapPost("/{id:long}/withdraw", WithdrawAsync).RequireAudience(Audience.Person).WithName("Approvals_Withdraw");
        requests.MapPost("/{id:long}/resubmit", ResubmitAsync).RequireAudience(Audience.Person).WithName("Approvals_Resubmit");
        requests.MapPost("/bulk-approve", BulkApproveAsync).RequireAudience(Audience.Person).WithName("Approvals_BulkApprove");

        var school = app.MapGroup("/api/corps/{corpId}/approval-chains").WithTags("Approval chains");
        school.MapGet("/", SchoolChainsAsync).RequireAudience(Audience.SchoolAdmin).WithName("ApprovalChains_ListForSchool");
        school.MapPut("/{kind}", PutSchoolChainAsync).RequireAudience(Audience.SchoolAdmin).WithName("ApprovalChains_PutForSchool");
        school.MapDelete("/{kind}", DeleteSchoolChainAsync).RequireAudience(Audience.SchoolAdmin).WithName("ApprovalChains_DeleteForSchool");

        var city = app.MapGroup("/api/approval-chains").WithTags("Approval chains");
        city.MapGet("/", CityChainsAsync).RequireAudience(Audience.Bureau).WithName("ApprovalChains_ListCityDefaults");
        city.MapPut("/{kind}", PutCityChainAsync).RequireAudience(Audience.Bureau).WithName("ApprovalChains_PutCityDefault");
        return app;
    }

    private static async Task<Ok<InboxDto>> InboxAsync(string? kind, int? page, int? pageSize, Caller caller, ApprovalRepository repo,
        ApprovalKinds kinds, CancellationToken ct)
    {
        var paging = PageRequest.From(page, pageSize);
        RequireKnownKind(kinds, kind, "kind");
        var (items, counts) = await repo.InboxAsync(caller.Identities, kind, paging.Skip, paging.PageSize, ct);
        return TypedResults.Ok(new InboxDto(items.Select(r => ListItem(r, kinds)).ToList(), paging.Page, paging.PageSize,
            kind is null ? counts.Values.Sum() : counts.GetValueOrDefault(kind), counts));
    }

    private static async Task<Ok<Paged<ApprovalListItemDto>>> MyRequestsAsync(string? kind, string? status, int? page, int? pageSize,
        Caller caller, ApprovalRepository repo, ApprovalKinds kinds, CancellationToken ct)
    {
        var paging = PageRequest.From(page, pageSize);
        RequireKnownKind(kinds, kind, "kind");
        if (status is not null && !ApprovalStatus.All.Contains(status))
        {
            throw new RequestValidationException("status", $"must be one of {string.Join(", ", ApprovalStatus.All)}");
        }

        var (items, total) = await repo.RequestedByAsync(caller.Identities, kind, status, paging.Skip, paging.PageSize, ct);
        return TypedResults.Ok(new Paged<ApprovalListItemDto>(items.Select(r => ListItem(r, kinds)).ToList(), paging.Page, paging.PageSize, total));
    }

    private static async Task<Ok<ApprovalDto>> GetAsync(long id, Caller caller, ApprovalRepository repo, ApprovalKinds kinds, CancellationToken ct) =>
        TypedResults.Ok(await ApprovalViews.DetailAsync(id, caller, repo, kinds, ct));

    private static async Task<Ok<ApprovalDto>> ApproveAsync(long id, ApproveRequest? request, Caller caller, ApprovalService service,
        ApprovalRepository repo, ApprovalKinds kinds, CancellationToken ct)
    {
        await ApprovalViews.DetailAsync(id, caller, repo, kinds, ct);
        await service.DecideAsync(caller, id, ApprovalDecision.Approve, request?.Comment, ct);
        return TypedResults.Ok(await ApprovalViews.DetailAsync(id, caller, repo, kinds, ct));
    }

    private static Task<Ok<ApprovalDto>> RejectAsync(long id, ReasonRequest request, Caller caller, ApprovalService service, ApprovalRepository repo,
        ApprovalKinds kinds, CancellationToken ct) => DecideAsync(id, ApprovalDecision.Reject, request, caller, service, repo, kinds, ct);

    private static Task<Ok<ApprovalDto>> ReturnAsync(long id, ReasonRequest request, Caller caller, ApprovalService service, ApprovalRepository repo,
        ApprovalKinds kinds, CancellationToken ct) => DecideAsync(id, ApprovalDecision.Return, request, caller, service, repo, kinds, ct);

    private static async Task<Ok<ApprovalDto>> DecideAsync(long id, string decision, ReasonRequest request, Caller caller, ApprovalService service,
        ApprovalRepository repo, ApprovalKinds kinds, CancellationToken ct)
    {
        await ApprovalViews.DetailAsync(id, caller, repo, kinds, ct);
        await service.DecideAsync(caller, id, decision, request.Reason, ct);
        return TypedResults.Ok(await ApprovalViews.DetailAsync(id, caller, repo, kinds, ct));
    }

    private static async Task<Ok<ApprovalDto>> WithdrawAsync(long id, Caller caller, ApprovalService service, ApprovalRepository repo,
        ApprovalKinds kinds, CancellationToken ct)
    {
        await service.WithdrawAsync(caller, id, ct);
        return TypedResults.Ok(await ApprovalViews.DetailAsync(id, caller, repo, kinds, ct));
    }

    private static async Task<Ok<ApprovalDto>> ResubmitAsync(long id, ApproveRequest? request, Caller caller, ApprovalService service,
        ApprovalRepository repo, ApprovalKinds kinds, CancellationToken ct)
    {
        await service.ResubmitAsync(caller, id, request?.Comment, ct);
        return TypedResults.Ok(await ApprovalViews.DetailAsync(id, caller, repo, kinds, ct));
    }

    private static async Task<Ok<BulkApproveDto>> BulkApproveAsync(BulkApproveRequest request, Caller caller, ApprovalService service,
        IOptions<ApprovalOptions> options, CancellationToken ct)
    {
        if (request.Ids is not { Count: > 0 } ids || ids.Count > options.Value.MaxBulk)
        {
            throw new RequestValidationException("ids", $"must list 1 to {options.Value.MaxBulk} request ids");
        }

        return TypedResults.Ok(new BulkApproveDto(await service.BulkApproveAsync(caller, ids, request.Comment, ct)));
    }

    // ---- chains ----

    private static async Task<Ok<IReadOnlyList<ChainDto>>> SchoolChainsAsync(string corpId, Caller caller, AccessPolicy access,
        ApprovalService service, ApprovalKinds kinds, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school decides who approves its requests");
        var chains = new List<ChainDto>();
        foreach (var kind in kinds.All)
        {
            chains.Add(ChainDto.From(await service.EffectiveChainAsync(corpId, kind.Kind, ct), kind.DisplayName));
        }

        return TypedResults.Ok<IReadOnlyList<ChainDto>>(chains);
    }

    private static async Task<Ok<ChainDto>> PutSchoolChainAsync(string corpId, string kind, ChainRequest request, Caller caller,
        AccessPolicy access, ApprovalService service, ApprovalRepository repo, ApprovalKinds kinds, CorpDirectory corps, TimeProvider time,
        CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school decides who approves its requests");
        var registered = RequireKnownKind(kinds, kind, "kind")!;
        var chain = ValidChain(request, corpId, corps);
        await repo.SaveChainAsync(corpId, kind, chain, caller.Account.CorpId, caller.UserIdIn(corpId), time.UtcNowForDatabase(), ct);
        return TypedResults.Ok(ChainDto.From(await service.EffectiveChainAsync(corpId, kind, ct), registered.DisplayName));
    }

    private static async Task<Ok<ChainDto>> DeleteSchoolChainAsync(string corpId, string kind, Caller caller, AccessPolicy access,
        ApprovalService service, ApprovalRepository repo, ApprovalKinds kinds, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school decides who approves its requests");
        var registered = RequireKnownKind(kinds, kind, "kind")!;
        await repo.DeleteChainAsync(corpId, kind, ct);
        return TypedResults.Ok(ChainDto.From(await service.EffectiveChainAsync(corpId, kind, ct), registered.DisplayName));
    }

    private static async Task<Ok<IReadOnlyList<ChainDto>>> CityChainsAsync(Caller caller, ApprovalService service, ApprovalKinds kinds,
        CancellationToken ct)
    {
        RequireBureau(caller);
        var chains = new List<ChainDto>();
        foreach (var kind in kinds.All)
        {
            chains.Add(ChainDto.From(await service.EffectiveChainAsync(ApprovalRepository.CityDefault, kind.Kind, ct), kind.DisplayName));
        }

        return TypedResults.Ok<IReadOnlyList<ChainDto>>(chains);
    }

    private static async Task<Ok<ChainDto>> PutCityChainAsync(string kind, ChainRequest request, Caller caller, ApprovalService service,
        ApprovalRepository repo, ApprovalKinds kinds, CorpDirectory corps, TimeProvider time, CancellationToken ct)
    {
        RequireBureau(caller);
        var registered = RequireKnownKind(kinds, kind, "kind")!;
        var chain = ValidChain(request, null, corps);
        await repo.SaveChainAsync(ApprovalRepository.CityDefault, kind, chain, caller.Account.CorpId, caller.Account.UserId,
            time.UtcNowForDatabase(), ct);
        return TypedResults.Ok(ChainDto.From(await service.EffectiveChainAsync(ApprovalRepository.CityDefault, kind, ct), registered.DisplayName));
    }

    private static void RequireBureau(Caller caller)
    {
        if (!AccessPolicy.IsBureauAdmin(caller))
        {
            throw new ForbiddenException("Missing scope: admin of the bureau (city defaults are the bureau's).");
        }
    }

    /// <summary>
    /// A chain as a school (or, with <paramref name="schoolCorpId"/> null, the bureau) may set it: 1 to 10 steps of a
    /// known approver source and mode; named approvers belong to the school or the bureau (the city default names
    /// bureau staff only); a process code routes the kind to DingTalk OA.
    /// </summary>
    private static ApprovalChain ValidChain(ChainRequest request, string? schoolCorpId, CorpDirectory corps)
    {
        var errors = new Dictionary<string, string[]>();
        var steps = request.Steps ?? [];
        if (steps.Count is 0 or > 10)
        {
            errors["steps"] = ["must have 1 to 10 steps"];
        }

        var valid = new List<ApprovalStep>();
        for (var i = 0; i < Math.Min(steps.Count, 10); i++)
        {
            var step = steps[i];
            var field = $"steps[{i}]";
            if (step is null)
            {
                errors[field] = ["must be an object"];
                continue;
            }

            if (!ApproverSource.All.Contains(step.Approvers))
            {
                errors[$"{field}.approvers"] = [$"must be one of {string.Join(", ", ApproverSource.All)}"];
            }

            if (step.Mode is not (StepMode.Any or StepMode.All))
            {
                errors[$"{field}.mode"] = ["must be any (或签: one decides) or all (会签: everyone approves)"];
            }

            string? corpId = null;
            if (step.Approvers == ApproverSource.Named)
            {
                corpId = step.CorpId ?? schoolCorpId;
                var corp = corpId is null ? null : corps.Find(corpId);
                if (corp is null || (corp.Kind != CorpKind.Bureau && corp.CorpId != schoolCorpId))
                {
                    errors[$"{field}.corpId"] = [schoolCorpId is null
                        ? "named approvers of a city default are bureau staff: give the bureau's corp id"
                        : "named approvers are staff of this school or of the bureau"];
                }

                if (step.UserIds is not { Count: > 0 and <= 20 } || step.UserIds.Any(string.IsNullOrWhiteSpace))
                {
                    errors[$"{field}.userIds"] = ["must name 1 to 20 userids"];
                }
            }
            else if (step.UserIds is { Count: > 0 } || step.CorpId is not null)
            {
                errors[$"{field}.userIds"] = ["only named approvers take corpId and userIds"];
            }

            valid.Add(new ApprovalStep(step.Approvers, step.Mode, corpId, step.Approvers == ApproverSource.Named ? step.UserIds?.Distinct().ToList() : null));
        }

        if (request.ProcessCode is { } code && (code.Length is 0 or > 128 || string.IsNullOrWhiteSpace(code)))
        {
            errors["processCode"] = ["is a DingTalk OA process code (PROC-…), at most 128 characters; omit it to decide in the app"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        return new ApprovalChain(valid, request.AutoApprove ?? false, request.ProcessCode?.Trim());
    }

    // ---- views ----

    private static IApprovalKind? RequireKnownKind(ApprovalKinds kinds, string? kind, string field) =>
        kind is null ? null : kinds.Find(kind) ?? throw new RequestValidationException(field,
            $"must be one of {string.Join(", ", kinds.All.Select(k => k.Kind))}");

    private static ApprovalListItemDto ListItem(ApprovalListRow r, ApprovalKinds kinds) => new(r.Id, r.Kind,
        kinds.Find(r.Kind)?.DisplayName ?? r.Kind, r.CorpId, r.Title, new ApprovalPersonDto(r.RequesterCorpId, r.RequesterUserId), r.Status,
        r.Route, r.CurrentStep, r.CreatedAt, r.UpdatedAt, r.StepOpenedAt, r.DecidedAt);
}

/// <summary>Requests as callers see them.</summary>
internal static class ApprovalViews
{
    /// <summary>The request as the caller may see it: its requester, anyone it was assigned to, and the school's admins; 404 for others.</summary>
    public static async Task<ApprovalDto> DetailAsync(long id, Caller caller, ApprovalRepository repo, ApprovalKinds kinds, CancellationToken ct)
    {
        var request = await repo.FindAsync(id, ct);
        var assignees = request is null ? [] : await repo.AssigneesAsync(id, ct);
        if (request is null || !(caller.Identities.Contains((request.RequesterCorpId, request.RequesterUserId))
                                 || assignees.Any(a => caller.Identities.Contains((a.CorpId, a.UserId)))
                                 || caller.Has(Roles.SchoolAdmin, request.CorpId)))
        {
            throw new NotFoundException($"No approval request {id} that concerns you.");
        }

        var steps = ApprovalRepository.ReadSteps(request.Steps);
        var actions = await repo.ActionsAsync(id, ct);
        return new ApprovalDto(request.Id, request.Kind, kinds.Find(request.Kind)?.DisplayName ?? request.Kind, request.CorpId, request.SubjectId,
            request.ClassId, request.Title, request.Summary, new ApprovalPersonDto(request.RequesterCorpId, request.RequesterUserId), request.Status,
            request.Route, request.CurrentStep, request.CreatedAt, request.UpdatedAt, request.DecidedAt,
            steps.Select((s, i) => new ApprovalStepDto(i, s.Approvers, s.Mode, assignees.Where(a => a.Step == i)
                .Select(a => new AssigneeDto(a.CorpId, a.UserId, a.Name, a.How, a.IsOpen, a.Decision, a.OpenedAt, a.ClosedAt)).ToList())).ToList(),
            actions.Select(a => new ApprovalActionDto(a.At, a.Step, new ApprovalPersonDto(a.ActorCorpId, a.ActorUserId), a.Action, a.Comment)).ToList());
    }
}
