using System.Diagnostics;
using Dapper;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Notices;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using EduDing.DingTalk;
using EduDing.DingTalk.Sandbox;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EduDing.Bench;

internal static class NoticeBenchmarks
{
    /// <summary>
    /// Issue 6: one notice to every guardian of a school of about 100,000 guardians, against the sandbox with all its
    /// limits on (20 QPS per API, one identical message per person per day, 500 per person per day) and the
    /// per-minute recipient cap scaled to <paramref name="cap"/> on both sides. The recipients are queued directly
    /// (the org sync is benchmarked on its own); what is measured is the dispatcher: claims, pacing, sends, checks.
    /// </summary>
    public static async Task FanOutAsync(string? mySqlConnectionString, int cap = 50_000)
    {
        await using var server = await SandboxServer.StartAsync(new SandboxOptions
        {
            Preset = "notice-bench", Seed = 3, QpsPerApi = 20, RecipientsPerMinute = cap,
        });
        await using var bench = await BenchDatabase.CreateAsync(mySqlConnectionString);
        var (db, provider) = (bench.Database, bench.Provider);

        var clientOptions = server.ClientOptions(o =>
        {
            o.MaxCallsPerSecondPerApi = 20;
            o.WorkNoticeRecipientsPerMinute = cap;
        });
        using var client = DingTalkClient.Create(new HttpClient(), clientOptions);
        var school = server.Sandbox.World.Schools.Single();
        var dingTalk = Options.Create(new DingTalkOptions
        {
            Corps = server.Sandbox.World.Corps.Select(c => new CorpSettings
            {
                CorpId = c.CorpId, Kind = c.Kind.ToString(), Name = c.Name, AppKey = c.AppKey, AppSecret = c.AppSecret, AgentId = c.AgentId,
            }).ToList(),
        });
        var corps = new CorpDirectory(dingTalk, new SandboxHost(dingTalk, NullLogger<SandboxHost>.Instance));
        var notices = new NoticeRepository(db);
        var options = Options.Create(new NoticeOptions { ResultCheckDelay = TimeSpan.FromSeconds(2) });
        var dispatcher = new NoticeDispatcher(notices, new NoticeOutbox(db, notices), new AudienceResolver(new OrgDirectory(db)), client, corps, new ServiceInstance(), new LeaseRepository(db, TimeProvider.System), options,
            Options.Create(clientOptions), TimeProvider.System, NullLogger<NoticeDispatcher>.Instance);

        var guardians = school.Classes.Values.SelectMany(c => c.Guardians.Select(g => (g.UserId, g.Name))).DistinctBy(g => g.UserId)
            .Select(g => new NoticeRecipient(school.CorpId, g.UserId, null, g.Name, AudienceRole.Guardians, null, "bench")).ToList();
        var now = DateTime.UtcNow;
        var queue = Stopwatch.StartNew();
        var noticeId = await notices.CreateAsync(NoticeService.AnnouncementKind, "notice", school.CorpId, null, "bench", "基准测试", "正文",
            "[]", "[]", null, NoticeStatus.Scheduled, now, now, default);
        var notice = (await notices.FindAsync(noticeId, default))!;
        await new NoticeOutbox(db, notices).BeginSendingAsync(noticeId, guardians, (_, _) => NoticeMessages.For(notice, options.Value, options.Value.MiniAppId), 100, now, default);
        queue.Stop();

        var process = Process.GetCurrentProcess();
        var send = Stopwatch.StartNew();
        var sent = await dispatcher.SendDueAsync(school.CorpId, TimeSpan.FromHours(1), default);
        send.Stop();
        var check = Stopwatch.StartNew();
        while ((await notices.BatchCountsAsync(noticeId, default)).Queued > 0)
        {
            await dispatcher.CheckResultsAsync(TimeSpan.FromMinutes(1), default);
            await Task.Delay(200);
        }

        check.Stop();
        await using var connection = await db.OpenConnectionAsync(default);
        var (first, last) = await connection.QuerySingleAsync<(DateTime, DateTime)>(
            "SELECT MIN(sent_at), MAX(sent_at) FROM notice_batches WHERE notice_id = @noticeId", new { noticeId });
        var progress = await notices.ProgressAsync(noticeId, default);
        var delivered = progress.Where(p => p.Status == RecipientStatus.Delivered).Sum(p => p.Recipients);
        var minutes = (last - first).TotalMinutes + 100.0 / cap; // the last batch's own share of the budget
        var perMinute = guardians.Count / minutes;
        process.Refresh();
        Console.WriteLine($"notice fan-out ({provider}): {guardians.Count} recipients, {sent} batches, cap {cap}/min, sandbox QPS 20");
        Console.WriteLine($"  queued (outbox insert) in {queue.Elapsed.TotalSeconds:F1} s; sent in {send.Elapsed.TotalSeconds:F1} s; " +
                          $"results read back in a further {check.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"  achieved {perMinute:F0} recipients/min = {100 * perMinute / cap:F1}% of the cap; delivered {delivered}; " +
                          $"dropped by the sandbox {server.Sandbox.Notices.DroppedCount()}; " +
                          $"exactly one message each: {guardians.All(g => server.Sandbox.Notices.DeliveredTo(g.CorpId, g.UserId) == 1)}");
        Console.WriteLine($"  peak working set {process.PeakWorkingSet64 / 1024 / 1024} MiB (sandbox and its 100k-guardian world included)");
    }
}
