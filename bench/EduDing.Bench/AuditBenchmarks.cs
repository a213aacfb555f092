using System.Diagnostics;
using Dapper;
using EduDing.Api.Features.Audit;
using Microsoft.Extensions.Options;

namespace EduDing.Bench;

/// <summary>
/// The tamper-evident audit log under many writers: 16 concurrent writers (requests reading children's records) append
/// 20,000 entries; each write's latency, the rate, the transactions re-run, and the time to verify the day. Side by
/// side: the chained write with 1, 4 and 16 (the default) chains a day, and a plain insert without a chain (the log
/// before the chain) as the baseline.
/// </summary>
internal static class AuditBenchmarks
{
    private const int Writers = 16;
    private const int Entries = 20_000;

    public static async Task ChainAsync(string? mySql)
    {
        foreach (var partitions in new[] { 0, 1, 4, 16 })
        {
            await using var bench = await BenchDatabase.CreateAsync(mySql);
            var db = bench.Database;
            // One MySQL database serves every variant: each starts from an empty log.
            await using (var connection = await db.OpenConnectionAsync(default))
            {
                await connection.ExecuteAsync("DELETE FROM audit_log; DELETE FROM audit_chain_heads;");
            }

            var key = Convert.ToBase64String(Enumerable.Range(0, 32).Select(i => (byte)(i * 7)).ToArray());
            var log = new AuditLog(db, TimeProvider.System, Options.Create(new AuditOptions { ChainKey = key, ChainPartitions = Math.Max(1, partitions) }));
            var latencies = new double[Entries];
            var next = -1;
            var clock = Stopwatch.StartNew();
            await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(async () =>
            {
                int i;
                while ((i = Interlocked.Increment(ref next)) < Entries)
                {
                    var started = Stopwatch.GetTimestamp();
                    if (partitions == 0)
                    {
                        await using var connection = await db.OpenConnectionAsync(default);
                        await connection.ExecuteAsync("""
                            INSERT INTO audit_log (at, actor_corp_id, actor_user_id, action, subject_corp_id, student_user_ids, reason, outcome)
                            VALUES (@at, 'bench-school', @user, 'student.record.read', 'bench-school', @students, 'class roster', 'allowed')
                            """, new { at = DateTime.UtcNow, user = $"teacher-{w}", students = $"s-{i},s-{i + 1}" });
                    }
                    else
                    {
                        await log.WriteAsync("bench-school", $"teacher-{w}", "student.record.read", "bench-school", [$"s-{i}", $"s-{i + 1}"],
                            "class roster", AuditLog.Allowed, default);
                    }

                    latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
                }
            })));
            var elapsed = clock.Elapsed;
            var ordered = latencies.Order().ToArray();
            var name = partitions == 0 ? "plain insert, no chain" : $"chained, {partitions} chain(s) a day";
            Console.WriteLine($"audit ({bench.Provider}): {name}: {Entries} entries by {Writers} writers in {elapsed.TotalSeconds:F1} s = " +
                              $"{Entries / elapsed.TotalSeconds:F0}/s; per write p50 {ordered[Entries / 2]:F1} ms, p99 {ordered[(int)(Entries * 0.99)]:F1} ms; " +
                              $"{db.TransientRetries} transactions re-run");
            if (partitions > 0)
            {
                var today = DateOnly.FromDateTime(DateTime.UtcNow.AddHours(8));
                var verify = Stopwatch.StartNew();
                var result = await new AuditChainVerifier(db, log).VerifyAsync(today.AddDays(-1), today, default);
                Console.WriteLine($"audit ({bench.Provider}): verified {result.EntriesChecked} entries in {result.Chains} chain(s) in " +
                                  $"{verify.Elapsed.TotalMilliseconds:F0} ms: {(result.Intact ? "intact" : "BROKEN " + result.FirstBroken)}");
            }
        }
    }
}
