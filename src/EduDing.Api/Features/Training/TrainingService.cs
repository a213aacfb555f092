using System.Globalization;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Training;

[RequestSchema("corpId", "title", "organiser", "earnedOn", "kind", "source")]
internal sealed record CreditRequest(string? CorpId, string? UserId, string? Title, string? Organiser, DateOnly? EarnedOn, [property: CodeValues(typeof(CreditKind))] string? Kind, [property: CodeValues(typeof(CreditSource))] string? Source,
    int? Domain, [property: CodeValues(typeof(CreditLevel))] string? Level, decimal? Credits, decimal? Hours, bool? Practical, bool? Concentrated, string? EvidenceUrl, long? PriorApprovalId = null,
    IReadOnlyList<CreditPartRequest?>? Parts = null);

/// <summary>A teacher's record: every credit with its status, the appraisals, and the standing in the current cycle.</summary>
internal sealed record TeacherRecord(string CorpId, string UserId, string Name, IReadOnlyList<TrainingCredit> Credits,
    IReadOnlyList<AppraisalResult> Appraisals, CycleCompliance Compliance, bool NewTeacherComplete, bool PrincipalComplete,
    TeacherProfile Profile);

/// <summary>A teacher's archive: their record, every training enrolled in with its result and certificate, and their 定期注册 lines.</summary>
internal sealed record TrainingArchive(TeacherRecord Record, IReadOnlyList<ArchivedTraining> Trainings, IReadOnlyList<ArchivedRegistration> Registrations);

/// <summary>One line of a school's list: a teacher's standing in the cycle.</summary>
internal sealed record TeacherStanding(string UserId, string Name, decimal Total, decimal Minimum, bool TrainingComplete, string Registration,
    IReadOnlyList<string> Reasons, int PendingClaims);

/// <summary>
/// Teacher training credits (docs/training.md): a teacher claims credits for training they took (through the approvals
/// platform: the school's admins, then the bureau when configured), a school admin records credits (校本研修 results) and
/// annual appraisals, and everyone sees the standing computed by <see cref="CreditCompliance"/> over every account of
/// the person (the cross-corp identity: a teacher who moved school keeps their record). Every change audited.
/// </summary>
internal sealed class TrainingService(TrainingRepository repo, OrgDirectory directory, IdentityRepository identity, AccessPolicy access,
    ApprovalService approvals, TrainingYears years, PriorApprovals priorApprovals, TrainingStandings standings, AuditLog audit, IOptions<TrainingOptions> options, TimeProvider time)
{
    private TrainingOptions Rules => options.Value;

    /// <summary>A teacher claims credits for training they took; the claim goes to review.</summary>
    public async Task<(TrainingCredit Credit, long ApprovalRequestId)> ClaimAsync(Caller caller, CreditRequest request, CancellationToken ct)
    {
        RequireTeacher(caller);

        if (string.IsNullOrWhiteSpace(request.CorpId))
        {
            throw new RequestValidationException("corpId", "is required: the school through which the credits are claimed");
        }

        var corpId = request.CorpId;
        if (!caller.Has(Roles.SchoolStaff, corpId) && !caller.Has(Roles.BureauStaff, corpId))
        {
            throw new ForbiddenException("Missing scope: staff of this school (credits are claimed through the teacher's school).");
        }

        var credit = Validate(request, corpId, caller.UserIdIn(corpId), CreditStatus.Pending, caller, requireCredits: false);
        // Training at a non-vetted institution counts only with the school's approval asked before it (Art. 3).
        long? prior = null;
        if (credit.Source == "non-vetted")
        {
            prior = request.PriorApprovalId is { } priorId && await priorApprovals.FindAsync(priorId, ct) is { Status: "approved" } approved &&
                    caller.Identities.Contains((approved.CorpId, approved.UserId)) && approved.StartsOn <= credit.EarnedOn
                ? priorId
                : throw new RequestValidationException("priorApprovalId",
                    "a non-vetted institution's training needs the school's prior approval: the id of your approved request, for a training that started on or after it");
        }

        await years.RequireOpenAsync(corpId, credit.EarnedOn, ct);
        long id;
        try
        {
            id = await repo.AddAsync(credit, ct, prior);
        }
        catch (System.Data.Common.DbException ex) when (repo.IsUniqueViolation(ex))
        {
            throw new ConflictException($"Prior approval {prior} is already named by another claim.", "该事前审批已被另一条学分申报使用。", reason: "prior_approval_used");
        }

        var approval = await approvals.SubmitAsync(new ApprovalSubmission(TrainingCreditKind.Name, corpId, TrainingCreditKind.SubjectOf(id),
            $"{caller.Account.Name}：{credit.Title}",
            $"{credit.Organiser}，{credit.EarnedOn:yyyy-MM-dd}，{(credit.Credits is { } c ? $"{c:0.##} 学分" : $"{credit.Hours:0.##} 学时（学分待定）")}"),
            (corpId, caller.UserIdIn(corpId)), ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.claim", corpId, [],
            $"credit {id}: {credit.Title} ({credit.Credits?.ToString("0.##", CultureInfo.InvariantCulture) ?? "hours " + credit.Hours})",
            AuditLog.Allowed, ct);
        return ((await repo.FindAsync(id, ct))!, approval.Id);
    }

    /// <summary>403 for anyone but staff: teachers claim through their school, the bureau's own staff (教研员) through the bureau.</summary>
    public static void RequireTeacher(Caller caller)
    {
        if (!caller.HasAnywhere(Roles.SchoolStaff) && !caller.HasAnywhere(Roles.BureauStaff))
        {
            throw new ForbiddenException("Missing scope: a teacher (staff of a school or of the bureau).");
        }
    }

    /// <summary>
    /// The teacher attaches a certificate file to their claim while it is under review: a PDF, PNG or JPEG (recognised by
    /// its first bytes, not its name) within <see cref="TrainingOptions.EvidenceMaxBytes"/>; a new file replaces the last.
    /// </summary>
    public async Task AttachEvidenceAsync(Caller caller, long id, string fileName, byte[] content, CancellationToken ct)
    {
        if (await repo.FindAsync(id, ct) is not { } credit || !caller.Identities.Contains((credit.CorpId, credit.UserId)))
        {
            throw new NotFoundException($"No claim {id} of yours.");
        }

        if (credit.Status is not (CreditStatus.Pending or CreditStatus.Returned))
        {
            throw new ConflictException($"Claim {id} is {credit.Status}; evidence is attached while it is under review.", "只有审核中的申报可以上传证明材料。", reason: "claim_not_pending");
        }

        var contentType = EvidenceType(content)
                          ?? throw new UnsupportedMediaTypeException("file", "must be a PDF, PNG or JPEG file (a scan or photo of the certificate)");
        var sha = Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(content)).ToLowerInvariant();
        var name = Path.GetFileName(fileName) is { Length: > 0 and <= 200 } n ? n : "evidence";
        await repo.SaveEvidenceAsync(id, name, contentType, content, sha, caller.UserIdIn(credit.CorpId), time.UtcNowForDatabase(), ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.evidence", credit.CorpId, [],
            $"credit {id}: {name} ({content.Length} bytes, {sha[..12]})", AuditLog.Allowed, ct);
    }

    /// <summary>A claim's evidence file, for its teacher, the school's admins and the bureau's.</summary>
    public async Task<(string FileName, string ContentType, byte[] Content)> EvidenceAsync(Caller caller, long id, CancellationToken ct)
    {
        RequireTeacher(caller);
        var credit = await repo.FindAsync(id, ct);
        var allowed = credit is not null && (caller.Identities.Contains((credit.CorpId, credit.UserId)) || caller.Has(Roles.SchoolAdmin, credit.CorpId) ||
                                             AccessPolicy.IsBureauAdmin(caller));
        if (!allowed)
        {
            throw new NotFoundException($"No claim {id} you may see.");
        }

        return await repo.EvidenceAsync(id, ct) ?? throw new NotFoundException($"Claim {id} has no evidence file.");
    }

    /// <summary>The evidence files a claim takes: a scan or photo of the certificate.</summary>
    public static readonly string[] EvidenceContentTypes = ["application/pdf", "image/png", "image/jpeg"];

    private static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    private static readonly byte[] JpegSignature = [0xFF, 0xD8, 0xFF];

    private static string? EvidenceType(byte[] content) => content.AsSpan() switch
    {
        var b when b.StartsWith("%PDF-"u8) => "application/pdf",
        var b when b.StartsWith(PngSignature) => "image/png",
        var b when b.StartsWith(JpegSignature) => "image/jpeg",
        _ => null,
    };

    /// <summary>A school admin records an approved credit for a teacher of the school (a 校本研修 result, a conversion).</summary>
    public async Task<TrainingCredit> RecordAsync(Caller caller, string corpId, CreditRequest request, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school records its teachers' credits");
        if (string.IsNullOrWhiteSpace(request.UserId) || (await directory.CurrentStaffAsync(corpId, [request.UserId], ct)).Count == 0)
        {
            throw new RequestValidationException("userId", "must be a current teacher of the school");
        }

        var credit = Validate(request, corpId, request.UserId, CreditStatus.Approved, caller, requireCredits: true);
        await years.RequireOpenAsync(corpId, credit.EarnedOn, ct);
        var id = await repo.AddAsync(credit, ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.record", corpId, [],
            $"credit {id} for {request.UserId}: {credit.Title} ({credit.Credits:0.##})", AuditLog.Allowed, ct);
        return (await repo.FindAsync(id, ct))!;
    }

    /// <summary>The reviewer sets the credits of a claim that came with hours only (no fixed ratio exists).</summary>
    public async Task<TrainingCredit> SetCreditsAsync(Caller caller, string corpId, long id, decimal? credits, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school reviews its teachers' claims");
        if (await repo.FindAsync(id, ct) is not { } credit || credit.CorpId != corpId)
        {
            throw new NotFoundException($"No credit claim {id} in {corpId}.");
        }

        if (credits is not (> 0 and <= 200))
        {
            throw new RequestValidationException("credits", "must be more than 0 and at most 200");
        }

        if (credit.Parts is { Count: > 0 })
        {
            throw new ConflictException($"Claim {id} is split across domains with its credits per part; the teacher claims again to change them.", "该申报已按领域分配学分，如需修改请教师重新申报。", reason: "claim_split");
        }

        await years.RequireOpenAsync(corpId, credit.EarnedOn, ct);
        if (!await repo.SetCreditsAsync(id, credits.Value, ct))
        {
            throw new ConflictException($"Claim {id} is {credit.Status}; credits are set while it is under review.", "只有审核中的申报可以认定学分。", reason: "claim_not_pending");
        }

        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.set-credits", corpId, [],
            $"credit {id}: {credits:0.##} (was {credit.Credits?.ToString("0.##", CultureInfo.InvariantCulture) ?? "not set"})", AuditLog.Allowed, ct);
        return (await repo.FindAsync(id, ct))!;
    }

    public async Task AppraisalAsync(Caller caller, string corpId, string userId, int year, bool? passed, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school records its teachers' annual appraisals");
        if ((await directory.CurrentStaffAsync(corpId, [userId], ct)).Count == 0)
        {
            throw new NotFoundException($"No teacher {userId} in {corpId}.");
        }

        if (year < 2016 || year > ShanghaiTime.Today(time).Year || passed is null)
        {
            throw new RequestValidationException("passed", "a result (passed true or false) for a year from 2016 to this year");
        }

        await years.RequireOpenAsync(corpId, year, ct);
        await repo.SaveAppraisalAsync(corpId, userId, year, passed.Value, caller.UserIdIn(corpId), time.UtcNowForDatabase(), ct);
        await audit.WriteAsync(caller.Account.CorpId, caller.Account.UserId, "training.appraisal", corpId, [],
            $"{userId} {year}: {(passed.Value ? "passed" : "not passed")}", AuditLog.Allowed, ct);
    }

    /// <summary>The caller's own record, over all their accounts.</summary>
    public Task<TeacherRecord> MineAsync(Caller caller, CancellationToken ct) =>
        caller.HasAnywhere(Roles.SchoolStaff) || caller.HasAnywhere(Roles.BureauStaff)
            ? RecordOfAsync(caller.Account, caller.Identities, ct)
            : throw new ForbiddenException("Missing scope: a teacher (staff of a school or of the bureau).");

    /// <summary>The caller's archive, over all their accounts.</summary>
    public async Task<TrainingArchive> MyArchiveAsync(Caller caller, CancellationToken ct) =>
        await ArchiveOfAsync(await MineAsync(caller, ct), caller.Identities, ct);

    /// <summary>A teacher's archive for their school's admins.</summary>
    public async Task<TrainingArchive> TeacherArchiveAsync(Caller caller, string corpId, string userId, CancellationToken ct)
    {
        var record = await TeacherAsync(caller, corpId, userId, ct);
        var account = (await directory.FindAccountAsync(corpId, userId, ct))!;
        return await ArchiveOfAsync(record, await identity.IdentitiesAsync(account, ct), ct);
    }

    private async Task<TrainingArchive> ArchiveOfAsync(TeacherRecord record, IReadOnlyList<(string CorpId, string UserId)> identities, CancellationToken ct) =>
        new(record, await repo.TrainingsOfAsync(identities, ct), await repo.RegistrationsOfAsync(identities, ct));

    /// <summary>A teacher's record for their school's admins.</summary>
    public async Task<TeacherRecord> TeacherAsync(Caller caller, string corpId, string userId, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school follows its teachers' credits");
        var account = (await directory.CurrentStaffAsync(corpId, [userId], ct)).Count > 0 ? await directory.FindAccountAsync(corpId, userId, ct) : null;
        return account is null
            ? throw new NotFoundException($"No teacher {userId} in {corpId}.")
            : await RecordOfAsync(account, await identity.IdentitiesAsync(account, ct), ct);
    }

    /// <summary>Every current teacher of the school with their standing in the cycle (set-based: a handful of statements).</summary>
    public async Task<IReadOnlyList<TeacherStanding>> SchoolAsync(Caller caller, string corpId, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "the school follows its teachers' credits");
        var pending = await repo.PendingClaimsAsync(corpId, ct);
        return (await standings.OfSchoolsAsync([corpId], Rules, ct)).Select(t => new TeacherStanding(t.UserId, t.Name, t.Compliance.Total,
            t.Compliance.Minimum, t.Compliance.TrainingComplete, t.Compliance.Registration, t.Compliance.Reasons, pending.GetValueOrDefault(t.UserId))).ToList();
    }

    private async Task<TeacherRecord> RecordOfAsync(Account account, IReadOnlyList<(string CorpId, string UserId)> identities, CancellationToken ct)
    {
        var credits = await repo.CreditsAsync(identities, ct);
        var appraisals = await repo.AppraisalsAsync(identities, ct);
        var facts = await repo.FactsAsync(identities, ct);
        var profile = facts.ProfileOf(identities);
        var compliance = CreditCompliance.Evaluate(profile.CycleStartYear ?? Rules.CycleStartYear,
            credits.Where(c => c.Status == CreditStatus.Approved).SelectMany(c => c.AsEntries()).ToList(), appraisals, Rules,
            facts.SituationOf(identities, access.IsSchool, ShanghaiTime.Today(time)));
        return new TeacherRecord(account.CorpId, account.UserId, account.Name, credits, appraisals, compliance,
            CreditCompliance.NewTeacherComplete(compliance, Rules), CreditCompliance.PrincipalComplete(compliance, Rules), profile);
    }

    private TrainingCredit Validate(CreditRequest r, string corpId, string userId, string status, Caller caller, bool requireCredits)
    {
        var errors = new Dictionary<string, string[]>();
        if (string.IsNullOrWhiteSpace(r.Title) || r.Title.Length > 100)
        {
            errors["title"] = ["is required, at most 100 characters"];
        }

        if (string.IsNullOrWhiteSpace(r.Organiser) || r.Organiser.Length > 100)
        {
            errors["organiser"] = ["is required (the organiser or institution), at most 100 characters"];
        }

        var today = ShanghaiTime.Today(time);
        if (r.EarnedOn is not { } earned || earned > today || earned < today.AddYears(-10))
        {
            errors["earnedOn"] = ["is required: the day the training ended, not in the future, within 10 years"];
        }

        if (r.Kind is null || !CreditKind.All.Contains(r.Kind))
        {
            errors["kind"] = [$"must be one of {string.Join(", ", CreditKind.All)}"];
        }

        if (r.Source is null || !CreditSource.All.Contains(r.Source))
        {
            errors["source"] = [$"must be one of {string.Join(", ", CreditSource.All)}"];
        }

        // Split across domains and levels: the credit's own domain and level are its largest part's.
        var parts = CreditParts.Validate(r.Parts, r.Credits, errors);
        var (domain, level) = parts is null ? (r.Domain, r.Level) : (parts.MaxBy(p => p.Credits)!.Domain, parts.MaxBy(p => p.Credits)!.Level);
        if (r.Parts is not { Count: > 0 } && r.Domain is not (>= 1 and <= 7))
        {
            errors["domain"] = [$"must be a knowledge domain 1 to 7 ({string.Join("、", Rules.DomainNames)}), or the credits split in parts"];
        }

        if (r.Parts is not { Count: > 0 } && (r.Level is null || !CreditLevel.All.Contains(r.Level)))
        {
            errors["level"] = [$"must be one of {string.Join(", ", CreditLevel.All)} (初/中/高), or the credits split in parts"];
        }

        if (r.Credits is { } c && c is <= 0 or > 200)
        {
            errors["credits"] = ["must be more than 0 and at most 200"];
        }
        else if (r.Credits is null && (requireCredits || r.Hours is not (> 0 and <= 2000)))
        {
            errors["credits"] = [requireCredits ? "is required" : "credits, or the hours (学时) when the credits are left to the reviewer, are required"];
        }

        if (r.EvidenceUrl is { } url && (url.Length > 500 || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || uri.Scheme != Uri.UriSchemeHttps))
        {
            errors["evidenceUrl"] = ["must be an https address, at most 500 characters"];
        }

        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var now = time.UtcNowForDatabase();
        return new TrainingCredit(0, corpId, userId, r.Kind!, r.Source!, domain!.Value, level!, r.Credits, r.Hours, r.EarnedOn!.Value, r.Title!.Trim(),
            r.Organiser!.Trim(), r.Practical ?? false, r.Concentrated ?? false, r.EvidenceUrl, status, now, caller.Account.CorpId,
            caller.Account.UserId, status == CreditStatus.Approved ? now : null) { Parts = parts };
    }
}

/// <summary>
/// A credit claim under review: by default any of the school's admins, then (Training:BureauConfirmsClaims) any of the
/// bureau's. Approved, the credit counts; rejected or withdrawn, it does not; returned, the teacher may resubmit.
/// </summary>
internal sealed class TrainingCreditKind(TrainingRepository repo, IOptions<TrainingOptions> options, TimeProvider time) : IApprovalKind
{
    public const string Name = "training-credit";

    public string Kind => Name;

    public string DisplayName => "培训学分认定";

    public ApprovalChain DefaultChain => options.Value.BureauConfirmsClaims
        ? new([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any), new ApprovalStep(ApproverSource.BureauAdmins, StepMode.Any)])
        : new([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any)]);

    public static string SubjectOf(long creditId) => creditId.ToString(CultureInfo.InvariantCulture);

    public async Task ApplyOutcomeAsync(ApprovalRequest request, ApprovalAction? decision, CancellationToken ct)
    {
        var id = long.Parse(request.SubjectId, CultureInfo.InvariantCulture);
        var now = time.UtcNowForDatabase();
        _ = request.Status switch
        {
            ApprovalStatus.Approved => await repo.SetStatusAsync(id, [CreditStatus.Pending, CreditStatus.Returned], CreditStatus.Approved, now, ct),
            ApprovalStatus.Rejected => await repo.SetStatusAsync(id, [CreditStatus.Pending, CreditStatus.Returned], CreditStatus.Rejected, now, ct),
            ApprovalStatus.Withdrawn => await repo.SetStatusAsync(id, [CreditStatus.Pending, CreditStatus.Returned], CreditStatus.Withdrawn, now, ct),
            ApprovalStatus.Returned => await repo.SetStatusAsync(id, [CreditStatus.Pending], CreditStatus.Returned, now, ct),
            _ => false,
        };
    }
}
