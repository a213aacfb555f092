using System.Diagnostics;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Features.Training;
using EduDing.Api.Features.Approvals;
using EduDing.Api.Features.Notices;
using EduDing.Api.Hosting;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
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
        await using var app = TrainingHost(bench, corpIds);

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

        var imports = app.Services.GetRequiredService<ProvincialImports>();
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

    /// <summary>
    /// Issue 13: 10,000 teachers of 100 schools with five years of records (10 credits a year: 500,000 credits, 50,000
    /// appraisals, a mandatory city training with its results), then the city's report (every teacher's standing and
    /// the aggregates, through the service method the endpoint calls) and one teacher's own record and standing, each
    /// timed repeatedly: p50 / p95 against the targets.
    /// </summary>
    public static async Task ReportsAsync(string? mySqlConnectionString)
    {
        await using var bench = await BenchDatabase.CreateAsync(mySqlConnectionString);
        var db = bench.Database;
        var corpIds = Enumerable.Range(0, Schools).Select(i => $"bench-school-{i:D3}").ToList();
        await using var app = TrainingHost(bench, corpIds);

        var setup = Stopwatch.StartNew();
        var now = DateTime.UtcNow;
        var teachers = corpIds.SelectMany(c => Enumerable.Range(0, TeachersPerSchool).Select(t => (CorpId: c, UserId: $"t{t:D3}"))).ToList();
        var random = new Random(13);
        await db.InTransactionAsync(async (tx, ct) =>
        {
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "staff", ["corp_id", "user_id", "name", "job_number", "is_admin", "is_boss", "synced_at"],
                teachers, x => [x.CorpId, x.UserId, $"教师{x.CorpId[^3..]}{x.UserId}", x.UserId.ToUpperInvariant(), false, false, now], ct);
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "training_appraisals", ["corp_id", "user_id", "year", "passed", "recorded_by_user_id", "recorded_at"],
                teachers.SelectMany(t => Enumerable.Range(2022, 5).Select(y => (t, y))).ToList(),
                x => [x.t.CorpId, x.t.UserId, x.y, random.Next(40) != 0, "admin", now], ct);
        }, default);
        string[] sources = ["provincial", "city", "school-based", "research"];
        string[] levels = ["basic", "intermediate", "advanced"];
        foreach (var school in teachers.Chunk(TeachersPerSchool))
        {
            await db.InTransactionAsync(async (tx, ct) => await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "training_credits",
                ["corp_id", "user_id", "kind", "source", "domain", "level", "credits", "earned_on", "title", "organiser", "practical", "concentrated",
                 "status", "created_at", "created_by_corp_id", "created_by_user_id", "decided_at"],
                school.SelectMany(t => Enumerable.Range(0, 50).Select(r => (t, r))).ToList(),
                x => [x.t.CorpId, x.t.UserId, "regular", sources[random.Next(4)], 1 + random.Next(7), levels[random.Next(3)], (decimal)random.Next(2, 14),
                    new DateOnly(2022 + (x.r / 10), 1 + (x.r % 10), 15), $"培训 {x.r}", "海宁市教师进修学校", false, false,
                    random.Next(50) == 0 ? "pending" : "approved", now, x.t.CorpId, "admin", now], ct), default);
        }

        await using (var connection = await db.OpenConnectionAsync(default))
        {
            var trainingId = await connection.ExecuteScalarAsync<long>($"""
                INSERT INTO trainings (organiser_corp_id, scope, title, domain, level, credits, capacity, created_at, created_by_user_id, mandatory_for)
                VALUES ('bench-bureau', 'city', '师德专题', 1, 'basic', 6, 5000, @now, 'chief', 'all');
                {db.Dialect.SelectLastInsertId};
                """, new { now });
            await connection.ExecuteAsync("""
                INSERT INTO training_sessions (training_id, starts_at, ends_at, place, sign_in_code) VALUES (@trainingId, @starts, @ends, '报告厅', 'code')
                """, new { trainingId, starts = new DateTime(2025, 5, 1, 1, 0, 0), ends = new DateTime(2025, 5, 1, 3, 0, 0) });
            await using var tx = await connection.BeginTransactionAsync();
            await MultiRowInsert.ExecuteAsync(tx, db.Dialect, "training_enrolments", ["training_id", "corp_id", "user_id", "status", "result", "enrolled_at"],
                teachers.Where((_, i) => i % 3 != 0).ToList(), t => [trainingId, t.CorpId, t.UserId, "approved", "pass", now], default);
            await tx.CommitAsync();
        }

        Console.WriteLine($"training reports ({bench.Provider}): {teachers.Count} teachers, 500,000 credits, 50,000 appraisals set up in {setup.Elapsed.TotalSeconds:F0} s");
        var reports = app.Services.GetRequiredService<TrainingReports>();
        var service = app.Services.GetRequiredService<TrainingService>();
        var chief = new Caller(new Account("bench-bureau", "chief", "局长", null), [("bench-bureau", "chief")],
            new HashSet<string> { $"{Roles.BureauAdmin}@bench-bureau", $"{Roles.BureauStaff}@bench-bureau" });

        // The day's first report computes and keeps every standing; later ones read them, recomputing only what changed.
        var watch = Stopwatch.StartNew();
        var report = await reports.CityAsync(chief, 2025, default);
        var cold = watch.Elapsed.TotalMilliseconds;
        var cityTimes = new List<double>();
        for (var i = 0; i < 100; i++)
        {
            watch.Restart();
            report = await reports.CityAsync(chief, 2025, default);
            cityTimes.Add(watch.Elapsed.TotalMilliseconds);
        }

        var repo = app.Services.GetRequiredService<TrainingRepository>();
        var changedTimes = new List<double>();
        for (var i = 0; i < 50; i++)
        {
            var (corpId, userId) = teachers[random.Next(teachers.Count)];
            await repo.AddAsync(new TrainingCredit(0, corpId, userId, "regular", "city", 2, "basic", 6m, null, new DateOnly(2025, 11, 1), "新增培训", "机构",
                false, false, null, "approved", DateTime.UtcNow, corpId, "admin", DateTime.UtcNow), default);
            watch.Restart();
            report = await reports.CityAsync(chief, 2025, default);
            changedTimes.Add(watch.Elapsed.TotalMilliseconds);
        }

        var teacherTimes = new List<double>();
        for (var i = 0; i < 300; i++)
        {
            var (corpId, userId) = teachers[random.Next(teachers.Count)];
            var caller = new Caller(new Account(corpId, userId, userId, null), [(corpId, userId)], new HashSet<string> { $"{Roles.SchoolStaff}@{corpId}" });
            watch.Restart();
            var record = await service.MineAsync(caller, default);
            if (record.Credits.Count < 40)
            {
                throw new InvalidOperationException($"{userId}@{corpId}: {record.Credits.Count} credits");
            }

            if (i >= 20)
            {
                teacherTimes.Add(watch.Elapsed.TotalMilliseconds);
            }
        }

        static double Percentile(List<double> values, double p) => values.Order().ElementAt((int)Math.Ceiling(p * values.Count) - 1);
        Console.WriteLine($"city report ({bench.Provider}): {report.Teachers} teachers, {report.CycleComplete} complete, {report.AtRisk.Count} at risk; " +
                          $"the day's first {cold:F0} ms; then p50 {Percentile(cityTimes, 0.5):F0} ms, p95 {Percentile(cityTimes, 0.95):F0} ms over {cityTimes.Count} " +
                          $"(target p95 <= 100 ms); right after a teacher's new credit p50 {Percentile(changedTimes, 0.5):F0} ms, " +
                          $"p95 {Percentile(changedTimes, 0.95):F0} ms over {changedTimes.Count}");
        Console.WriteLine($"one teacher's record and standing ({bench.Provider}): p50 {Percentile(teacherTimes, 0.5):F1} ms, " +
                          $"p95 {Percentile(teacherTimes, 0.95):F1} ms over {teacherTimes.Count} (target p95 <= 20 ms)");
    }

    /// <summary>The service's training feature over the bench database, its corps configured; nothing started (no workers).</summary>
    private static WebApplication TrainingHost(BenchDatabase bench, IReadOnlyList<string> corpIds)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = "Production" });
        builder.Logging.ClearProviders();
        builder.Configuration["Database:Provider"] = bench.Provider.ToString();
        builder.Configuration["Database:ConnectionString"] = bench.ConnectionString;
        builder.Configuration["Auth:SigningKey"] = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32));
        builder.Configuration["Encryption:MasterKeys:bench"] = BenchDatabase.MasterKey;
        foreach (var (corpId, i) in corpIds.Append("bench-bureau").Select((c, i) => (c, i)))
        {
            builder.Configuration[$"DingTalk:Corps:{i}:CorpId"] = corpId;
            builder.Configuration[$"DingTalk:Corps:{i}:Kind"] = corpId == "bench-bureau" ? "Bureau" : "School";
            builder.Configuration[$"DingTalk:Corps:{i}:Name"] = corpId == "bench-bureau" ? "海宁市教育局" : $"海宁市第{corpId[^3..]}学校";
            builder.Configuration[$"DingTalk:Corps:{i}:AppKey"] = corpId;
            builder.Configuration[$"DingTalk:Corps:{i}:AppSecret"] = "x";
            builder.Configuration[$"DingTalk:Corps:{i}:AgentId"] = "1";
        }

        builder.AddEduDingDefaults();
        builder.Services.AddDatabase();
        builder.Services.AddDingTalk();
        builder.Services.AddOrg();
        builder.Services.AddIdentity();
        builder.Services.AddApprovals();
        builder.Services.AddNotices();
        builder.Services.AddTraining();
        return builder.Build();
    }
}
