using EduDing.Api.Hosting;
using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Notices;

/// <summary>A thin loop around <see cref="NoticeDispatcher.RunOnceAsync"/>; every instance may run one.</summary>
internal sealed class NoticeWorker(IServiceScopeFactory scopes, IOptions<NoticeOptions> options, TimeProvider time, ILogger<NoticeWorker> log)
    : PeriodicWorker(scopes, time, log)
{
    /// <summary>How long one pass keeps sending a corp's batches before it looks for new notices again.</summary>
    private static readonly TimeSpan SendSlice = TimeSpan.FromSeconds(5);

    protected override bool Enabled => options.Value.RunWorkers;

    protected override TimeSpan Interval => options.Value.PollInterval;

    protected override Task RunOnceAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<NoticeDispatcher>().RunOnceAsync(SendSlice, ct);
}
