using EduDing.Api.Data;
using EduDing.Api.Features.DingTalk;
using EduDing.Api.Features.Org;
using EduDing.Api.Hosting;
using EduDing.Api.Tests.Infrastructure;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace EduDing.Api.Tests.Features.DingTalk;

/// <summary>The inbox hands each event to the feature that registered its type; a failing feature holds up nobody else.</summary>
public sealed class EventDispatcherTests(SqliteTestDb db) : IClassFixture<SqliteTestDb>
{
    private sealed class RecordingHandler(string prefix, bool fails = false) : IDingTalkEventHandler
    {
        public List<string> Handled { get; } = [];

        public bool Fails { get; set; } = fails;

        public string Name => $"{prefix} handler";

        public bool Handles(string eventType) => eventType.StartsWith(prefix, StringComparison.Ordinal);

        public Task HandleAsync(CorpConfig corp, IReadOnlyList<InboxEvent> events, CancellationToken ct)
        {
            if (Fails)
            {
                throw new InvalidOperationException("the feature's store is down");
            }

            Handled.AddRange(events.Select(e => e.EventKey));
            return Task.CompletedTask;
        }
    }

    private static CorpDirectory Corps(string corpId)
    {
        var options = Options.Create(new DingTalkOptions
        {
            Corps = [new CorpSettings { CorpId = corpId, Kind = "School", Name = corpId, AppKey = corpId, AppSecret = "x", AgentId = 1 }],
        });
        return new CorpDirectory(options, new SandboxHost(options, NullLogger<SandboxHost>.Instance));
    }

    [Fact]
    public async Task EventsGoToTheirFeature_AFailingFeatureBacksOffThenParks_AndTheCorpsOtherEventsStillApply()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 12, 1, 3, 0, 0, TimeSpan.Zero));
        const string corp = "corp-dispatch";
        var inbox = new EventInbox(db.Database, time);
        var org = new RecordingHandler("org_");
        var approvals = new RecordingHandler("bpms_", fails: true);
        var options = Options.Create(new OrgSyncOptions
        {
            MaxEventAttempts = 3, EventRetryDelay = TimeSpan.FromSeconds(30), EventRetryMaxDelay = TimeSpan.FromHours(1),
        });
        var dispatcher = new EventDispatcher(inbox, [org, approvals], Corps(corp), new LeaseRepository(db.Database, time), new ServiceInstance(),
            options, NullLogger<EventDispatcher>.Instance);
        await inbox.TryAddAsync(corp, "bpms-1", "bpms_instance_change", "{}", "http", default);
        await inbox.TryAddAsync(corp, "org-1", "org_dept_modify", "{}", "http", default);
        await inbox.TryAddAsync(corp, "chat-1", "chat_update_title", "{}", "http", default);

        await dispatcher.ProcessPendingAsync(corp, default);

        Assert.Equal(["org-1"], org.Handled);
        Assert.Equal("chat_update_title", Assert.Single((await inbox.ListAsync(corp, "unhandled", 0, 10, default)).Items).EventType);
        var failing = Assert.Single((await inbox.ListAsync(corp, "pending", 0, 10, default)).Items);
        Assert.Equal("bpms-1", failing.EventKey);
        Assert.Equal(time.GetUtcNow().UtcDateTime.AddSeconds(30), failing.NextAttemptAt);
        Assert.Contains("bpms_ handler: the feature's store is down", failing.LastError);

        // Not retried before its wait is over; later events of the corp are applied meanwhile.
        await inbox.TryAddAsync(corp, "org-2", "org_user_modify", "{}", "http", default);
        await dispatcher.ProcessPendingAsync(corp, default);
        Assert.Equal(["org-1", "org-2"], org.Handled);
        Assert.Equal(1, (await inbox.ListAsync(corp, "pending", 0, 10, default)).Items.Single().Attempts);

        time.Advance(TimeSpan.FromSeconds(30));
        await dispatcher.ProcessPendingAsync(corp, default);
        time.Advance(TimeSpan.FromSeconds(60));
        await dispatcher.ProcessPendingAsync(corp, default);
        var parked = Assert.Single((await inbox.ListAsync(corp, "parked", 0, 10, default)).Items);
        Assert.Equal(3, parked.Attempts);
        Assert.Contains("store is down", parked.LastError);

        // Once the feature is back, an operator's replay applies it.
        approvals.Fails = false;
        Assert.Equal(1, await inbox.ReplayAsync(parked.Id, null, default));
        await dispatcher.ProcessPendingAsync(corp, default);
        Assert.Equal(["bpms-1"], approvals.Handled);
        Assert.Single((await inbox.ListAsync(corp, "unhandled", 0, 10, default)).Items);
    }
}
