using System.Diagnostics;
using EduDing.Api.Data;
using EduDing.Api.Features.Audit;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Training;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using MiniExcelLibs;

namespace EduDing.Bench;

/// <summary>
/// Issue 13: the provincial platform's city-wide export for 10,000 teachers of 100 schools (5 records each, 50,000 rows)
/// imported by the bureau through the service method the endpoint calls (parse, match teachers, upsert, reconcile),
/// over 50,000 local credits of which 10,000 are the same trainings (superseded); then the same file again (all
/// unchanged). Reports rows per second for both.
/// </summary>
internal static class TrainingBenchmarks
{
    private const int Schools = 100;
    private const int TeachersPerSchool = 100;
    private const int RecordsPerTeacher = 5;

    public static async Task ProvincialImportAsync(string? mySqlConnectionString)
    {
        await using var bench = await BenchDatabase.CreateAsync(mySqlConnectionString);
        var (db, provider) = (bench.Database, bench.Provider);
        var time = TimeProvider.System;
        var corpIds = Enumerable.Range(0, Schools).Select(i => $"bench-school-{i:D3}").ToList();
        var dingTalk = Options.Create(new DingTalkOptions
        {
            Corps = corpIds.Select(c => new CorpSettings { CorpId = c, Kind = "School", Name = $"海宁市第{c[^3..]}学校", AppKey = c, AppSecret = "x", AgentId = 1 })
                .Append(new CorpSettings { CorpId = "bench-bureau", Kind = "Bureau", Name = "海宁市教育局", AppKey = "b", AppSecret = "x", AgentId = 1 }).ToList(),
        });
        var corps = new CorpDirectory(dingTalk, new SandboxHost(dingTalk, NullLogger<SandboxHost>.Instance));

        // The mirror's teachers and their local credits: one of each teacher's five is a training the platform also records.
        var now = DateTime.UtcNow;
        await db.InTransactionAsync(async (tx, ct) =>
        {
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "staff", ["corp_id", "user_id", "name", "job_number", "is_admin", "is_boss", "synced_at"],
                corpIds.SelectMany(c => Enumerable.Range(0, TeachersPerSchool).Select(t => (c, t))).ToList(),
                x => [x.c, $"t{x.t:D3}", $"教师{x.c[^3..]}{x.t:D3}", $"T{x.t:D3}", false, false, now], ct);
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "training_credits",
                ["corp_id", "user_id", "kind", "source", "domain", "level", "credits", "earned_on", "title", "organiser", "practical", "concentrated",
                 "status", "created_at", "created_by_corp_id", "created_by_user_id", "decided_at"],
                corpIds.SelectMany(c => Enumerable.Range(0, TeachersPerSchool).SelectMany(t => Enumerable.Range(0, RecordsPerTeacher).Select(r => (c, t, r))))
                    .ToList(),
                x => [x.c, $"t{x.t:D3}", "regular", "city", 1 + (x.r % 7), "basic", 12m, new DateOnly(2023 + (x.r % 3), 3, 10 + x.r),
                    x.r == 0 ? "省级项目 0" : $"校本研修 {x.r}", "海宁市教师进修学校", false, false, "approved", now, x.c, "admin", now], ct);
        }, default);

        var rows = corpIds.SelectMany(c => Enumerable.Range(0, TeachersPerSchool).SelectMany(t => Enumerable.Range(0, RecordsPerTeacher).Select(r =>
            new Dictionary<string, object?>
            {
                ["学校"] = $"海宁市第{c[^3..]}学校", ["姓名"] = $"教师{c[^3..]}{t:D3}", ["工号"] = $"T{t:D3}", ["项目编号"] = $"ZJ-{r}-{t % 50}",
                ["项目名称"] = $"省级项目 {r}", ["培训机构"] = "浙江师范大学", ["结束日期"] = new DateTime(2023 + (r % 3), 3, 10 + r), ["学分"] = 24,
                ["类别"] = 1 + (r % 7), ["层次"] = "中级", ["培训级别"] = "省级", ["培训类型"] = "专业发展",
            }))).ToList();
        using var stream = new MemoryStream();
        await stream.SaveAsAsync(rows);
        var xlsx = stream.ToArray();

        var imports = new ProvincialImports(db, corps, new AuditLog(db, time), Options.Create(new TrainingOptions()), time);
        var caller = new Caller(new Account("bench-bureau", "chief", "局长", null), [("bench-bureau", "chief")],
            new HashSet<string> { $"{Roles.BureauAdmin}@bench-bureau" });
        foreach (var run in new[] { "first", "again" })
        {
            var watch = Stopwatch.StartNew();
            var report = await imports.ImportAsync(caller, "bench-bureau", "省平台导出.xlsx", xlsx, "reject", default);
            watch.Stop();
            if (!report.Imported || report.Problems.Count > 0)
            {
                throw new InvalidOperationException($"import refused: {report.Problems.Count} problems, first {report.Problems.FirstOrDefault()}");
            }

            Console.WriteLine($"provincial import ({provider}, {run}): {report.TotalRows} rows ({xlsx.Length / 1024} KiB) in {watch.Elapsed.TotalSeconds:F2} s = " +
                              $"{report.TotalRows / watch.Elapsed.TotalSeconds:F0} rows/s (target >= 10000 rows/s); {report.Created} new, {report.Updated} updated, " +
                              $"{report.Unchanged} unchanged, {report.Superseded} local credits superseded");
        }
    }
}
