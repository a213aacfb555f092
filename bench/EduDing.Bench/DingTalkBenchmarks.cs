using System.Collections.Concurrent;
using System.Diagnostics;
using EduDing.DingTalk;
using EduDing.DingTalk.Sandbox;
using EduDing.DingTalk.Sandbox.Events;
using EduDing.DingTalk.Sandbox.Generation;
using EduDing.DingTalk.Stream;
using Microsoft.Extensions.Logging.Abstractions;

namespace EduDing.Bench;

internal static class DingTalkBenchmarks
{
    /// <summary>
    /// Issue 3: 1,000 user/list calls against a sandbox limited to 20 QPS per API, from 8 concurrent callers, with the
    /// client's default pacing. Reports the achieved rate against the limit and whether any throttling reached a caller.
    /// </summary>
    public static async Task PacingAsync()
    {
        const int calls = 1000;
        const double limit = 20;
        await using var server = await SandboxServer.StartAsync(new SandboxOptions { Preset = "demo", QpsPerApi = limit });
        var observer = new Outcomes();
        using var client = DingTalkClient.Create(new HttpClient(), server.ClientOptions(), observers: observer);
        var corp = server.Sandbox.World.Bureau;
        var dept = corp.Departments.Keys.First(d => d != 1);
        await client.ListUsersPageAsync(corp.App, dept, 0, default); // token and connection warm-up, not timed
        await Task.Delay(1100);
        observer.Clear();

        var next = 0;
        var failures = 0;
        var stopwatch = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (Interlocked.Increment(ref next) <= calls)
            {
                try
                {
                    await client.ListUsersPageAsync(corp.App, dept, 0, default);
                }
                catch (DingTalkException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        })));
        stopwatch.Stop();

        var rate = calls / stopwatch.Elapsed.TotalSeconds;
        Console.WriteLine($"pacing: {calls} user/list calls at a {limit} QPS limit in {stopwatch.Elapsed.TotalSeconds:F2} s " +
                          $"(lower bound {calls / limit:F1} s)");
        Console.WriteLine($"pacing: achieved {rate:F2} calls/s = {rate / limit:P1} of the limit; errors reaching callers: {failures}; " +
                          $"90018 answered by the sandbox and retried: {observer.Count("90018")}");
    }

    /// <summary>Issue 3: the haining preset's generation time and its determinism (three runs, one seed).</summary>
    public static void Generate()
    {
        string? firstFingerprint = null;
        for (var run = 1; run <= 3; run++)
        {
            GC.Collect();
            var before = GC.GetTotalMemory(forceFullCollection: true);
            var stopwatch = Stopwatch.StartNew();
            var corps = new OrgGenerator(20260901, SandboxPreset.Haining).Generate();
            stopwatch.Stop();
            var after = GC.GetTotalMemory(forceFullCollection: true);
            var fingerprint = OrgFingerprint.Compute(corps);
            firstFingerprint ??= fingerprint;
            var students = corps.Sum(c => c.Classes.Values.Sum(r => r.Students.Count));
            var guardians = corps.SelectMany(c => c.Classes.Values.SelectMany(r => r.Guardians).Select(g => g.UnionId)).Distinct().Count();
            Console.WriteLine($"generate haining run {run}: {stopwatch.Elapsed.TotalMilliseconds:F0} ms, {corps.Count} corps, " +
                              $"{corps.Sum(c => c.Classes.Count)} classes, {students} students, {guardians} guardians, " +
                              $"{corps.Sum(c => c.Users.Count)} staff, heap +{(after - before) / 1048576.0:F0} MiB, " +
                              $"fingerprint {fingerprint[..16]} {(fingerprint == firstFingerprint ? "(same)" : "(DIFFERENT)")}");
            GC.KeepAlive(corps);
        }
    }

    /// <summary>Issue 3: 1,000 events through Stream mode with two forced disconnects; time until all are ACKed.</summary>
    public static async Task StreamAsync()
    {
        await using var server = await SandboxServer.StartAsync(new SandboxOptions
        {
            Preset = "demo", QpsPerApi = 0, StreamDisconnectGrace = TimeSpan.FromSeconds(2),
        });
        var sandbox = server.Sandbox;
        var corp = sandbox.World.Schools.First();
        using var client = DingTalkClient.Create(new HttpClient(), server.ClientOptions());
        var stream = new DingTalkStreamClient(client, corp.App, new DingTalkStreamOptions(), NullLogger<DingTalkStreamClient>.Instance);
        var received = new ConcurrentDictionary<string, int>();
        using var stop = new CancellationTokenSource();
        var running = stream.RunAsync((ev, _) =>
        {
            received.AddOrUpdate(ev.EventId, 1, (_, n) => n + 1);
            return Task.FromResult(StreamAck.Success);
        }, stop.Token);
        while (sandbox.Stream.OpenConnections(corp.AppKey) == 0)
        {
            await Task.Delay(10);
        }

        var stopwatch = Stopwatch.StartNew();
        var ids = new List<string>();
        for (var i = 0; i < 1000; i++)
        {
            var ev = SandboxEvents.User("user_modify_org", corp, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), corp.Users.Keys.First());
            ids.Add(ev.EventId);
            sandbox.Publish([ev]);
            if (i is 333 or 666)
            {
                // Each disconnect must hit a live connection: wait for the replacement of the previous one.
                var opened = stream.ConnectionsOpened;
                sandbox.Stream.ForceDisconnect(corp.AppKey);
                while (stream.ConnectionsOpened == opened)
                {
                    await Task.Delay(1);
                }
            }
        }

        while (!ids.All(received.ContainsKey) || !sandbox.EventsDrained)
        {
            await Task.Delay(5);
        }

        stopwatch.Stop();
        await stop.CancelAsync();
        await running;
        Console.WriteLine($"stream: 1000 events across 2 forced disconnects, all received in {stopwatch.Elapsed.TotalMilliseconds:F0} ms; " +
                          $"{stream.ConnectionsOpened} connections opened; lost: {ids.Count(id => !received.ContainsKey(id))}; " +
                          $"duplicates: {received.Values.Sum() - received.Count}");
    }

    private sealed class Outcomes : IDingTalkCallObserver
    {
        private readonly ConcurrentDictionary<string, int> _counts = new();

        public void OnCall(DingTalkCall call) => _counts.AddOrUpdate(call.Outcome, 1, (_, n) => n + 1);

        public int Count(string outcome) => _counts.GetValueOrDefault(outcome);

        public void Clear() => _counts.Clear();
    }
}
