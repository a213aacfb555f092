using EduDing.Api.Data;
using EduDing.Api.Tests.Infrastructure;

namespace EduDing.Api.Tests.Data;

public abstract class LeaseRepositoryTests<TDb>(TDb db) where TDb : TestDb
{
    private static readonly TimeSpan Minute = TimeSpan.FromMinutes(1);

    private LeaseRepository Leases => new(db.Database, db.Time);

    private static string NewName() => $"job-{Guid.NewGuid():N}";

    [Fact]
    public async Task TryAcquireAsync_FreeLease_IsTaken()
    {
        db.SkipUnlessAvailable();
        var name = NewName();

        Assert.True(await Leases.TryAcquireAsync(name, "instance-a", Minute, default));

        var lease = await Leases.FindAsync(name, default);
        Assert.Equal("instance-a", lease!.Holder);
        Assert.Equal(db.Time.GetUtcNow().UtcDateTime + Minute, lease.ExpiresAt);
    }

    [Fact]
    public async Task TryAcquireAsync_HeldByAnotherAndUnexpired_IsRefused()
    {
        db.SkipUnlessAvailable();
        var name = NewName();
        await Leases.TryAcquireAsync(name, "instance-a", Minute, default);

        Assert.False(await Leases.TryAcquireAsync(name, "instance-b", Minute, default));
        Assert.Equal("instance-a", (await Leases.FindAsync(name, default))!.Holder);
    }

    [Fact]
    public async Task TryAcquireAsync_SameHolder_RenewsAndKeepsAcquiredAt()
    {
        db.SkipUnlessAvailable();
        var name = NewName();
        await Leases.TryAcquireAsync(name, "instance-a", Minute, default);
        var first = await Leases.FindAsync(name, default);
        db.Time.Advance(TimeSpan.FromSeconds(40));

        Assert.True(await Leases.TryAcquireAsync(name, "instance-a", Minute, default));

        var renewed = await Leases.FindAsync(name, default);
        Assert.Equal(first!.AcquiredAt, renewed!.AcquiredAt);
        Assert.Equal(first.ExpiresAt + TimeSpan.FromSeconds(40), renewed.ExpiresAt);
    }

    [Fact]
    public async Task TryAcquireAsync_HolderStoppedRenewing_PassesToAnotherAfterExpiry()
    {
        db.SkipUnlessAvailable();
        var name = NewName();
        await Leases.TryAcquireAsync(name, "instance-a", Minute, default);
        db.Time.Advance(Minute + TimeSpan.FromSeconds(1));

        Assert.True(await Leases.TryAcquireAsync(name, "instance-b", Minute, default));

        var lease = await Leases.FindAsync(name, default);
        Assert.Equal("instance-b", lease!.Holder);
        Assert.Equal(db.Time.GetUtcNow().UtcDateTime, lease.AcquiredAt);
    }

    [Fact]
    public async Task ReleaseAsync_ByHolder_FreesTheLeaseAtOnce()
    {
        db.SkipUnlessAvailable();
        var name = NewName();
        await Leases.TryAcquireAsync(name, "instance-a", Minute, default);
        await Leases.ReleaseAsync(name, "instance-b", default);
        Assert.False(await Leases.TryAcquireAsync(name, "instance-b", Minute, default));

        await Leases.ReleaseAsync(name, "instance-a", default);

        Assert.True(await Leases.TryAcquireAsync(name, "instance-b", Minute, default));
    }

    [Fact]
    public async Task TryAcquireAsync_EightInstancesRacing_ExactlyOneWins()
    {
        db.SkipUnlessAvailable();
        var name = NewName();
        using var start = new ManualResetEventSlim();

        var attempts = Enumerable.Range(0, 8).Select(i => Task.Run(async () =>
        {
            start.Wait();
            return await Leases.TryAcquireAsync(name, $"instance-{i}", Minute, default);
        })).ToList();
        start.Set();
        var won = await Task.WhenAll(attempts);

        Assert.Single(won, w => w);
    }
}

public sealed class SqliteLeaseRepositoryTests(SqliteTestDb db)
    : LeaseRepositoryTests<SqliteTestDb>(db), IClassFixture<SqliteTestDb>;

public sealed class MySqlLeaseRepositoryTests(MySqlTestDb db)
    : LeaseRepositoryTests<MySqlTestDb>(db), IClassFixture<MySqlTestDb>;
