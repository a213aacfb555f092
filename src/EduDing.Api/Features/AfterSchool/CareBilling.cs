using System.ComponentModel;
using System.Globalization;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.AfterSchool;

/// <summary>One offering's line on a child's fee statement.</summary>
internal sealed record FeeLine(long OfferingId, string Offering, [property: CodeValues(typeof(FeeUnit))] string Unit, int FeeCents, int Sessions, int FullSessions, long DueCents);

/// <summary>What the school's finance records say about a child's fee for a period.</summary>
internal static class PaymentStatus
{
    [Description("已缴费")]
    public const string Paid = "paid";

    [Description("已减免")]
    public const string Waived = "waived";

    [Description("已退费")]
    public const string Refunded = "refunded";

    public static readonly IReadOnlyList<string> All = [Paid, Waived, Refunded];
}

/// <summary>What the finance office recorded for an application and period: paid, waived or refunded, and how much.</summary>
internal sealed record CarePayment(long ApplicationId, string Period, [property: CodeValues(typeof(PaymentStatus))] string Status, long AmountCents, string? Note);

/// <summary>A child's fee statement for a period: lines, the exemption applied, the total due, the payment and the balance.</summary>
internal sealed record FeeStatement(long ApplicationId, string StudentUserId, string StudentName, string? Exemption, int ExemptPercent,
    IReadOnlyList<FeeLine> Lines, long DueCents, CarePayment? Payment, long BalanceCents);

/// <summary>
/// Fees per child per period (docs/after-school.md): each place the child was enrolled in, from its enrolment to its
/// release, charged by <see cref="CareFees"/> against the sessions the calendar held on the child's weekdays; payment
/// status is what the school's finance records say (no payment is processed here).
/// </summary>
internal sealed class CareBilling(Database db, CareRepository care, OrgDirectory directory, AccessPolicy access, IOptions<AfterSchoolOptions> options,
    TimeProvider time)
{
    /// <summary>The period's first and last day: "term" (the program), or a month "yyyy-MM".</summary>
    public static (DateOnly From, DateOnly To) Period(CareProgram program, string? period)
    {
        if (period is null or "term")
        {
            return (program.StartsOn, program.EndsOn);
        }

        return DateOnly.TryParseExact(period + "-01", "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var first)
            ? (first, first.AddMonths(1).AddDays(-1))
            : throw new RequestValidationException("period", "must be term or a month yyyy-MM");
    }

    public async Task<IReadOnlyList<FeeStatement>> StatementsAsync(Caller caller, string corpId, long programId, string? period, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "fees are the school's");
        var program = await care.ProgramOfSchoolAsync(corpId, programId, ct);
        var (from, to) = Period(program, period);
        var key = period ?? "term";
        var calendar = SchoolCalendar.Of(await care.DaysAsync(corpId, from, to, ct));
        var sessionDays = (await care.SessionsAsync(programId, ct)).Select(s => s.Weekday).ToHashSet();
        var offerings = (await care.OfferingsAsync(programId, ct)).ToDictionary(o => o.Id);
        await using var connection = await db.OpenConnectionAsync(ct);
        var applications = (await connection.QueryAsync<CareApplication>(new CommandDefinition("""
            SELECT a.id, a.program_id, a.corp_id, a.student_user_id, a.class_id, a.guardian_corp_id, a.guardian_user_id, a.on_behalf_by_user_id,
                   a.weekdays, a.pickup, a.priority, a.exemption, a.terms_version, a.status, a.submitted_at, a.decided_at
            FROM care_applications a
            WHERE a.program_id = @programId AND EXISTS (SELECT 1 FROM care_places p WHERE p.application_id = a.id AND p.enrolled_at IS NOT NULL)
            ORDER BY a.id
            """, new { programId }, cancellationToken: ct))).ToList();
        var places = (await care.PlacesAsync(applications.Select(a => a.Id).ToList(), ct)).Where(p => p.EnrolledAt is not null).ToLookup(p => p.ApplicationId);
        var payments = (await connection.QueryAsync<CarePayment>(new CommandDefinition(
            "SELECT application_id, period, status, amount_cents, note FROM care_payments WHERE application_id IN @ids AND period = @key",
            new { ids = applications.Select(a => a.Id).ToList(), key }, cancellationToken: ct))).ToDictionary(p => p.ApplicationId);

        var statements = new List<FeeStatement>();
        foreach (var a in applications)
        {
            var chosen = a.WeekdaySet;
            var exempt = a.Exemption is { } e ? options.Value.FeeExemptions.GetValueOrDefault(e) : 0;
            var lines = new List<FeeLine>();
            foreach (var place in places[a.Id])
            {
                var offering = offerings[place.OfferingId];
                var start = ShanghaiTime.DayOf(place.EnrolledAt!.Value);
                var end = place.Status == PlaceStatus.Released ? ShanghaiTime.DayOf(place.UpdatedAt) : to;
                var full = CareFees.Sessions(program, sessionDays, calendar, chosen, from, to);
                var had = CareFees.Sessions(program, sessionDays, calendar, chosen, start > from ? start : from, end < to ? end : to);
                lines.Add(new FeeLine(offering.Id, offering.Name, program.FeeUnit, offering.FeeCents, had, full,
                    CareFees.Due(program.FeeUnit, offering.FeeCents, had, full, options.Value.ProRataFees, exempt)));
            }

            var due = lines.Sum(l => l.DueCents);
            var payment = payments.GetValueOrDefault(a.Id);
            var settled = payment?.Status switch
            {
                "paid" => payment.AmountCents,
                "refunded" => -payment.AmountCents,
                "waived" => due,
                _ => 0,
            };
            var student = await directory.FindStudentAsync(a.CorpId, a.StudentUserId, ct);
            statements.Add(new FeeStatement(a.Id, a.StudentUserId, student?.Name ?? a.StudentUserId, a.Exemption, exempt, lines, due, payment,
                due - settled));
        }

        return statements;
    }

    /// <summary>Records what the finance office says of an application's period (paid, waived, refunded), replacing an earlier record.</summary>
    public async Task<CarePayment> RecordPaymentAsync(Caller caller, string corpId, long programId, long applicationId, string period, string? status,
        long? amountCents, string? note, CancellationToken ct)
    {
        access.RequireSchoolAdmin(caller, corpId, "fees are the school's");
        var program = await care.FindProgramAsync(programId, ct);
        var application = await care.FindApplicationAsync(applicationId, ct);
        if (program is null || program.CorpId != corpId || application is null || application.ProgramId != programId)
        {
            throw new NotFoundException($"No application {applicationId} in after-school program {programId} of {corpId}.");
        }

        Period(program, period);
        if (status is null || !PaymentStatus.All.Contains(status))
        {
            throw new RequestValidationException("status", $"must be one of {string.Join(", ", PaymentStatus.All)}");
        }

        if (amountCents is not (>= 0 and <= 100_000_000))
        {
            throw new RequestValidationException("amountCents", "is required, 0 to 1,000,000 yuan in cents");
        }

        if (note is { Length: > 200 })
        {
            throw new RequestValidationException("note", "at most 200 characters");
        }

        await using var connection = await db.OpenConnectionAsync(ct);
        await connection.ExecuteAsync(new CommandDefinition(
            db.Dialect.Upsert("care_payments", ["application_id", "period"], ["status", "amount_cents", "note", "recorded_by_user_id", "recorded_at"]),
            new
            {
                application_id = applicationId, period, status, amount_cents = amountCents, note = note?.Trim(), recorded_by_user_id = caller.UserIdIn(corpId),
                recorded_at = time.UtcNowForDatabase(),
            }, cancellationToken: ct));
        return new CarePayment(applicationId, period, status, amountCents.Value, note?.Trim());
    }
}
