using EduDing.Api.Features.DingTalk;

namespace EduDing.Api.Tests.Features.Org;

/// <summary>Real time: DingTalk events applied by the service's own workers until the mirror equals the sandbox again.</summary>
public sealed class OrgEventTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);

    [Fact]
    public async Task HttpPush_500RandomMutations_WithDuplicatesAndFailedPushes_Converges()
    {
        await using var live = await LiveOrg.StartAsync(EventDelivery.Http);
        await live.WaitForInitialSyncAsync();
        live.Sandbox.Options.PushDuplicateRate = 0.10;
        live.Sandbox.Options.PushFailureRate = 0.05;

        await RandomMutations.ApplyAsync(live.Sandbox, seed: 500, count: 500);
        var difference = await live.WaitUntilMirroredAsync(Deadline);

        Assert.Null(difference);
        Assert.True(live.Sandbox.Counters.Get("push.duplicates") > 0, "duplicates were delivered");
        Assert.True(live.Sandbox.Counters.Get("push.failures") > 0, "pushes failed and were retried");
    }

    [Fact]
    public async Task Stream_500RandomMutations_AcrossTwoForcedDisconnects_Converges()
    {
        await using var live = await LiveOrg.StartAsync(EventDelivery.Stream);
        await live.WaitForInitialSyncAsync();
        live.Sandbox.Options.StreamDuplicateRate = 0.05;

        await RandomMutations.ApplyAsync(live.Sandbox, seed: 501, count: 500, async applied =>
        {
            if (applied is 150 or 350)
            {
                // Each round must hit live connections: wait until every corp's replacement has connected.
                var before = live.Sandbox.Counters.Get("stream.connections");
                foreach (var corp in live.Sandbox.World.Corps)
                {
                    live.Sandbox.Stream.ForceDisconnect(corp.AppKey);
                }

                var until = DateTime.UtcNow.AddSeconds(30);
                while (live.Sandbox.Counters.Get("stream.connections") < before + live.Sandbox.World.Corps.Count && DateTime.UtcNow < until)
                {
                    await Task.Delay(20);
                }
            }
        });
        var difference = await live.WaitUntilMirroredAsync(Deadline);

        Assert.Null(difference);
        Assert.True(live.Sandbox.Counters.Get("stream.disconnect_notices") >= 2 * live.Sandbox.World.Corps.Count,
            string.Join(", ", live.Sandbox.Counters.Snapshot().Select(c => $"{c.Key}={c.Value}")));
    }
}
