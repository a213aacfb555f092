using System.Diagnostics;
using EduDing.Api.Data;
using EduDing.Api.Features.Approvals;

namespace EduDing.Bench;

/// <summary>
/// The "待我审批" inbox with 100,000 open requests city-wide: 100 schools × 1,000 pending requests of three kinds, each
/// step assigned to its school's 3 admins (any of them decides), plus 50,000 decided requests and 10,000 open ones that
/// also wait on one named bureau approver. Each inbox request is the service's two queries (a page of 20, the counts
/// per kind), timed from the repository.
/// </summary>
internal static class ApprovalBenchmarks
{
    private const int Schools = 100;
    private const int OpenPerSchool = 1000;
    private const int DecidedPerSchool = 500;
    private static readonly string[] Kinds = ["notice", "after-school", "training-credit"];

    public static async Task InboxAsync(string? mySql)
    {
        await using var bench = await BenchDatabase.CreateAsync(mySql);
        var db = bench.Database;
        var repo = new ApprovalRepository(db);
        var seed = Stopwatch.StartNew();
        var now = DateTime.UtcNow;
        var steps = ApprovalRepository.WriteSteps([new ApprovalStep(ApproverSource.SchoolAdmins, StepMode.Any)]);
        long id = 0;
        for (var school = 0; school < Schools; school++)
        {
            var corpId = $"bench-school-{school:D3}";
            var requests = Enumerable.Range(0, OpenPerSchool + DecidedPerSchool).Select(i => (Id: ++id, Open: i < OpenPerSchool, Index: i)).ToList();
            await db.InTransactionAsync(async (tx, ct) =>
            {
                await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "approval_requests",
                    ["id", "kind", "corp_id", "subject_id", "title", "requester_corp_id", "requester_user_id", "status", "route", "steps",
                        "current_step", "version", "created_at", "updated_at", "step_opened_at"],
                    requests, r =>
                    [
                        r.Id, Kinds[r.Index % Kinds.Length], corpId, $"s-{r.Id}", $"申请 {r.Id}", corpId, $"teacher-{r.Index % 80}",
                        r.Open ? ApprovalStatus.Pending : ApprovalStatus.Approved, ApprovalRoute.InApp, steps, 0, 1,
                        now.AddMinutes(-r.Id), now.AddMinutes(-r.Id), now.AddMinutes(-r.Id),
                    ], ct);
                var assignees = requests.SelectMany(r => Enumerable.Range(0, 3).Select(a => (Request: r, Admin: a))).ToList();
                await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "approval_assignees",
                    ["request_id", "kind", "step", "corp_id", "user_id", "name", "how", "is_open", "decision", "opened_at", "closed_at"],
                    assignees, a =>
                    [
                        a.Request.Id, Kinds[a.Request.Index % Kinds.Length], 0, corpId, $"admin-{a.Admin}", "校长", "resolved", a.Request.Open,
                        a.Request.Open ? null : a.Admin == 0 ? "approve" : null, now.AddMinutes(-a.Request.Id),
                        a.Request.Open ? null : now,
                    ], ct);
                // Every tenth open request also waits on one named approver of the bureau (a two-person step).
                var bureau = requests.Where(r => r.Open && r.Index % 10 == 0).ToList();
                await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "approval_assignees",
                    ["request_id", "kind", "step", "corp_id", "user_id", "name", "how", "is_open", "opened_at"],
                    bureau, r => [r.Id, Kinds[r.Index % Kinds.Length], 0, "bench-bureau", "bureau-reviewer", "科长", "resolved", true, now.AddMinutes(-r.Id)], ct);
            }, default);
        }

        Console.WriteLine($"approvals inbox ({bench.Provider}): seeded {Schools * OpenPerSchool} open and {Schools * DecidedPerSchool} decided " +
                          $"requests, {id * 3 + Schools * OpenPerSchool / 10} assignments, in {seed.Elapsed.TotalSeconds:F1} s");

        var random = new Random(7);
        async Task MeasureAsync(string label, Func<int, Task<int>> query)
        {
            for (var i = 0; i < 20; i++)
            {
                await query(i);
            }

            var samples = new List<double>();
            var seen = 0;
            for (var i = 0; i < 300; i++)
            {
                var watch = Stopwatch.StartNew();
                seen = await query(i);
                samples.Add(watch.Elapsed.TotalMilliseconds);
            }

            samples.Sort();
            Console.WriteLine($"  {label}: {seen} listed; p50 {samples[150]:F1} ms, p95 {samples[284]:F1} ms, max {samples[^1]:F1} ms " +
                              "(target p95 <= 50 ms)");
        }

        await MeasureAsync("school admin, first page of 20", async _ =>
        {
            var school = random.Next(Schools);
            var (_, counts) = await repo.InboxAsync([($"bench-school-{school:D3}", $"admin-{random.Next(3)}")], null, 0, 20, default);
            return counts.Values.Sum();
        });
        await MeasureAsync("school admin, page 25 of one kind", async _ =>
        {
            var school = random.Next(Schools);
            var (_, counts) = await repo.InboxAsync([($"bench-school-{school:D3}", $"admin-{random.Next(3)}")], "notice", 480, 20, default);
            return counts.Values.Sum();
        });
        await MeasureAsync("named bureau approver, first page of 20", async _ =>
        {
            var (_, counts) = await repo.InboxAsync([("bench-bureau", "bureau-reviewer")], null, 0, 20, default);
            return counts.Values.Sum();
        });
        await MeasureAsync("requester's own list (我发起的), first page", async _ =>
        {
            var (_, total) = await repo.RequestedByAsync([($"bench-school-{random.Next(Schools):D3}", $"teacher-{random.Next(80)}")], null, null, 0, 20,
                default);
            return total;
        });
    }
}
