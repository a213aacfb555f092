using System.Diagnostics;
using System.Text;
using System.Text.Json;
using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Identity;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using EduDing.DingTalk;
using EduDing.DingTalk.Callbacks;
using EduDing.DingTalk.Sandbox;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace EduDing.Bench;

internal static class OrgSyncBenchmarks
{
    /// <summary>
    /// Issue 4: a full reconcile of every corp of the haining preset against the sandbox at 20 QPS per app per API, corp
    /// after corp. For each corp the lower bound is the largest of (calls to an API / 20) over its APIs, since the APIs
    /// run in parallel; the minimum calls are the pages the data needs. Reports wall time and calls against both.
    /// </summary>
    public static async Task HainingFullSyncAsync(string? mySqlConnectionString)
    {
        const double qps = 20;
        await using var server = await SandboxServer.StartAsync(new SandboxOptions { Preset = "haining", QpsPerApi = qps });
        await using var bench = await BenchDatabase.CreateAsync(mySqlConnectionString);
        var (db, provider) = (bench.Database, bench.Provider);

        var usage = new CallUsageTracker(db, TimeProvider.System);
        using var client = DingTalkClient.Create(new HttpClient(), server.ClientOptions(o => o.MaxCallsPerSecondPerApi = qps),
            observers: usage);
        var dingTalk = Options.Create(new DingTalkOptions
        {
            Corps = server.Sandbox.World.Corps.Select(c => new CorpSettings
            {
                CorpId = c.CorpId, Kind = c.Kind.ToString(), Name = c.Name, AppKey = c.AppKey, AppSecret = c.AppSecret, AgentId = c.AgentId,
            }).ToList(),
        });
        var corps = new CorpDirectory(dingTalk, new SandboxHost(dingTalk, NullLogger<SandboxHost>.Instance));
        var org = new OrgRepository(db);
        var runs = new SyncRunRepository(db);
        var sync = new OrgSyncService(new DingTalkOrgReader(client), corps, org, runs, new LeaseRepository(db, TimeProvider.System), usage,
            new ServiceInstance(), Options.Create(new OrgSyncOptions { MonthlyCallBudget = long.MaxValue / 2 }), TimeProvider.System,
            NullLogger<OrgSyncService>.Instance);

        double wall = 0, bound = 0;
        long calls = 0, minimum = 0;
        var total = Stopwatch.StartNew();
        foreach (var corp in server.Sandbox.World.Corps)
        {
            var stopwatch = Stopwatch.StartNew();
            var runId = await sync.RunFullSyncAsync(corp.CorpId, "bench", default);
            stopwatch.Stop();
            var run = SyncRunDto.From((await runs.FindAsync(runId!.Value, default))!);
            if (run.Status != "succeeded")
            {
                throw new InvalidOperationException($"{corp.CorpId}: {run.Error}");
            }

            var perApi = run.Calls.Where(c => c.Key != "oauth2/accessToken").ToDictionary(c => c.Key, c => c.Value);
            var corpBound = perApi.Values.Max() / qps;
            wall += stopwatch.Elapsed.TotalSeconds;
            bound += corpBound;
            calls += perApi.Values.Sum();
            minimum += MinimumCalls(corp);
        }

        total.Stop();
        var world = server.Sandbox.World;
        Console.WriteLine($"orgsync haining ({provider}): {world.Corps.Count} corps, {world.Corps.Sum(c => c.Classes.Count)} classes, " +
                          $"{world.Corps.Sum(c => c.Classes.Values.Sum(r => r.Students.Count))} students synced in {total.Elapsed.TotalSeconds:F1} s");
        Console.WriteLine($"orgsync haining: wall {wall:F1} s vs rate-limit lower bound {bound:F1} s = {wall / bound:F3}x (target <= 1.15x)");
        Console.WriteLine($"orgsync haining: {calls} calls vs the {minimum} the data requires = {(double)calls / minimum:F3}x (target <= 1.05x)");
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
    }

    /// <summary>The pages the data needs: root get, listsub and user/list per department, edu tree listings, class lists.</summary>
    internal static long MinimumCalls(DingTalk.Sandbox.Model.SandboxCorp corp)
    {
        static int Pages(int count, int size) => Math.Max(1, (count + size - 1) / size);
        var departments = corp.Departments.Values.ToList();
        var userPages = departments.Sum(d => Pages(corp.Users.Values.Count(u => u.DeptIds.Contains(d.Id)), 100));
        var eduListings = 1 + corp.EduNodes.Values.Count(n => n.Type != DingTalk.Sandbox.Model.EduNodeType.Class);
        var classPages = corp.Classes.Values.Sum(r =>
            Pages(r.Students.Count, 30) + Pages(r.Guardians.Count, 30) + Pages(r.Teachers.Count, 30) + Pages(r.Relations.Count, 30));
        return 1 + departments.Count + userPages + eduListings + classPages;
    }

    /// <summary>
    /// Issue 4: how fast POST /api/dingtalk/callback/{corpId} answers DingTalk (verify, decrypt, store in the inbox, encrypt
    /// the reply) on a real Kestrel port over SQLite (or MySQL when a connection string is given): 2,000 pushes, 8 at a
    /// time, after a warm-up.
    /// </summary>
    public static async Task CallbackLatencyAsync(string? mySqlConnectionString)
    {
        await using var sandbox = await SandboxServer.StartAsync(new SandboxOptions { Preset = "demo", QpsPerApi = 0 });
        var corp = sandbox.Sandbox.World.Schools.First();
        var path = Path.Combine(Path.GetTempPath(), $"eduding-bench-{Guid.NewGuid():N}.db");
        var builder = BenchService.CreateBuilder(sandbox.BaseUrl, [corp], mySqlConnectionString, path);
        builder.AddEduDingDefaults();
        builder.Services.AddDatabase();
        builder.Services.AddDingTalk();
        builder.Services.AddOrg();
        builder.Services.AddIdentity();
        await using var app = builder.Build();
        app.UseEduDingDefaults();
        app.MapDingTalk();
        app.MapOrg();
        app.MapIdentityEndpoints();
        await app.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        var crypto = new DingTalkCallbackCrypto(corp.CallbackToken, corp.CallbackAesKey, corp.AppKey);

        async Task<double> PushAsync(int i)
        {
            var payload = $$"""{"EventType":"edu_user_update","CorpId":"{{corp.CorpId}}","eventId":"bench-{{i}}","classId":{{corp.Classes.Keys.First()}}}""";
            var encrypt = crypto.Encrypt(payload);
            var timestamp = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString();
            var signature = crypto.Sign(timestamp, "benchnonce", encrypt);
            var started = Stopwatch.GetTimestamp();
            using var response = await http.PostAsync($"api/dingtalk/callback/{corp.CorpId}?signature={signature}&msg_signature={signature}&timestamp={timestamp}&nonce=benchnonce",
                new StringContent(JsonSerializer.Serialize(new { encrypt }), Encoding.UTF8, "application/json"));
            await response.Content.ReadAsStringAsync();
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            return response.IsSuccessStatusCode ? elapsed : throw new InvalidOperationException($"push {i}: {(int)response.StatusCode}");
        }

        for (var i = 0; i < 200; i++)
        {
            await PushAsync(-1 - i);
        }

        var latencies = new List<double>();
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 8).Select(async _ =>
        {
            int i;
            while ((i = Interlocked.Increment(ref next)) <= 2000)
            {
                var ms = await PushAsync(i);
                lock (latencies)
                {
                    latencies.Add(ms);
                }
            }
        }));
        latencies.Sort();
        double P(double q) => latencies[(int)Math.Ceiling(q * latencies.Count) - 1];
        Console.WriteLine($"callback: {latencies.Count} pushes, 8 concurrent, {(mySqlConnectionString is null ? "SQLite" : "MySQL")} inbox: p50 {P(0.50):F1} ms, p95 {P(0.95):F1} ms, " +
                          $"p99 {P(0.99):F1} ms, max {latencies[^1]:F1} ms (target p99 < 100 ms)");
        await app.StopAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        File.Delete(path);
    }
}
