using EduDing.Api.Features.Audit;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EduDing.Api.Tests.Features.Audit;

/// <summary>
/// The audit chains on each database: written by many writers at once they stay whole, and every way of tampering
/// with the table (an edited entry, a removed one, a removed tail, a forged hash without the key) is found at its entry.
/// Each test writes on a day of its own, so the tests of the shared database do not see each other's chains.
/// </summary>
public abstract class AuditChainTests<TDb>(TDb db) where TDb : TestDb
{
    private static readonly string Key = Convert.ToBase64String(Enumerable.Range(1, 32).Select(i => (byte)i).ToArray());

    private static (AuditLog Log, AuditChainVerifier Verifier, FakeTimeProvider Time, DateOnly Day) Setup(TestDb db, int dayOffset,
        string key = "", int partitions = 4)
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2027, 3, 1, 2, 0, 0, TimeSpan.Zero).AddDays(dayOffset));
        var log = new AuditLog(db.Database, time, Options.Create(new AuditOptions { ChainKey = key, ChainPartitions = partitions }));
        return (log, new AuditChainVerifier(db.Database, log), time, DateOnly.FromDateTime(time.GetUtcNow().UtcDateTime.AddHours(8)));
    }

    private static async Task<List<ChainedAuditEntry>> WriteAsync(AuditLog log, FakeTimeProvider time, DateOnly day, int count)
    {
        for (var i = 0; i < count; i++)
        {
            await log.WriteAsync("corp-a", $"teacher-{i}", "student.read", "corp-a", [$"s-{i}", $"s-{i + 1}"], $"读取 #{i}", AuditLog.Allowed, default);
            time.Advance(TimeSpan.FromSeconds(1));
        }

        return [.. await log.ExtractAsync(day, day, 10_000, default)];
    }

    [Fact]
    public async Task Entries_WrittenByManyWritersAtOnce_FormWholeChains()
    {
        db.SkipUnlessAvailable();
        var (log, verifier, _, day) = Setup(db, 0, Key);

        await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
        {
            for (var i = 0; i < 25; i++)
            {
                await log.WriteAsync("corp-a", $"writer-{w}", "student.read", "corp-a", [], $"entry {i}", AuditLog.Allowed, default);
            }
        })));

        var result = await verifier.VerifyAsync(day, day, default);
        var entries = await log.ExtractAsync(day, day, 10_000, default);
        Assert.True(result.Intact, result.FirstBroken?.Reason);
        Assert.True(result.Keyed);
        Assert.Equal(200, result.EntriesChecked);
        Assert.Equal(200, entries.Count);
        Assert.InRange(result.Chains, 1, 4);
        Assert.All(entries.GroupBy(e => e.Chain), chain => Assert.Equal(Enumerable.Range(1, chain.Count()).Select(i => (long)i),
            chain.Select(e => e.Seq!.Value).Order()));
    }

    [Theory]
    [InlineData("reason")]
    [InlineData("student_user_ids")]
    [InlineData("outcome")]
    [InlineData("actor_user_id")]
    public async Task AnEditedEntry_IsFoundAtThatEntry(string column)
    {
        db.SkipUnlessAvailable();
        var (log, verifier, time, day) = Setup(db, 1 + column.Length, Key, partitions: 1);
        var entries = await WriteAsync(log, time, day, 6);
        var victim = entries[3];

        await db.ExecuteAsync($"UPDATE audit_log SET {column} = 'x' WHERE id = @id", new { id = victim.Id });

        var result = await verifier.VerifyAsync(day, day, default);
        Assert.False(result.Intact);
        Assert.Equal(victim.Id, result.FirstBroken!.EntryId);
        Assert.Equal(4, result.FirstBroken.Seq);
        Assert.Contains("altered", result.FirstBroken.Reason);
    }

    [Fact]
    public async Task AnEditedEntry_WithItsHashRecomputedWithoutTheKey_IsFoundAtThatEntry()
    {
        db.SkipUnlessAvailable();
        var (log, verifier, time, day) = Setup(db, 20, Key, partitions: 1);
        var entries = await WriteAsync(log, time, day, 5);
        var victim = entries[2] with { Reason = "nothing to see" };
        // Someone who can write the table but holds no key recomputes the entry's hash the only way they can.
        var forger = new AuditLog(db.Database, time, Options.Create(new AuditOptions()));

        await db.ExecuteAsync("UPDATE audit_log SET reason = @reason, hash = @hash WHERE id = @id",
            new { reason = victim.Reason, hash = forger.Hash(victim), id = victim.Id });

        var result = await verifier.VerifyAsync(day, day, default);
        Assert.False(result.Intact);
        Assert.Equal(victim.Id, result.FirstBroken!.EntryId);
    }

    [Fact]
    public async Task ARemovedEntry_LeavesAGapFoundAtTheNextEntry()
    {
        db.SkipUnlessAvailable();
        var (log, verifier, time, day) = Setup(db, 21, Key, partitions: 1);
        var entries = await WriteAsync(log, time, day, 6);

        await db.ExecuteAsync("DELETE FROM audit_log WHERE id = @id", new { id = entries[2].Id });

        var result = await verifier.VerifyAsync(day, day, default);
        Assert.False(result.Intact);
        Assert.Equal(entries[3].Id, result.FirstBroken!.EntryId);
        Assert.Equal(3, result.FirstBroken.Seq);
        Assert.Contains("missing", result.FirstBroken.Reason);
    }

    [Fact]
    public async Task ARemovedTail_IsFoundByTheChainsHead()
    {
        db.SkipUnlessAvailable();
        var (log, verifier, time, day) = Setup(db, 22, Key, partitions: 1);
        var entries = await WriteAsync(log, time, day, 5);

        await db.ExecuteAsync("DELETE FROM audit_log WHERE id >= @id AND chain = @chain", new { id = entries[3].Id, chain = entries[3].Chain });

        var result = await verifier.VerifyAsync(day, day, default);
        Assert.False(result.Intact);
        Assert.Null(result.FirstBroken!.EntryId);
        Assert.Equal(4, result.FirstBroken.Seq);
        Assert.Contains("entries 4 to 5", result.FirstBroken.Reason);
    }

    [Fact]
    public async Task Unkeyed_IntactChain_VerifiesAndSaysItIsUnkeyed()
    {
        db.SkipUnlessAvailable();
        var (log, verifier, time, day) = Setup(db, 23);
        await WriteAsync(log, time, day, 7);

        var result = await verifier.VerifyAsync(day, day, default);

        Assert.True(result.Intact, result.FirstBroken?.Reason);
        Assert.False(result.Keyed);
        Assert.Equal(7, result.EntriesChecked);
    }

    [Fact]
    public async Task TheWrongKey_FindsEveryChainBroken()
    {
        db.SkipUnlessAvailable();
        var (log, _, time, day) = Setup(db, 24, Key, partitions: 1);
        await WriteAsync(log, time, day, 3);
        var otherKey = Convert.ToBase64String(Enumerable.Repeat((byte)7, 32).ToArray());
        var (_, otherVerifier, _, _) = Setup(db, 24, otherKey, partitions: 1);

        var result = await otherVerifier.VerifyAsync(day, day, default);

        Assert.False(result.Intact);
        Assert.Equal(1, result.FirstBroken!.Seq);
    }
}

public sealed class SqliteAuditChainTests(SqliteTestDb db) : AuditChainTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlAuditChainTests(MySqlTestDb db) : AuditChainTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
