using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Notices;

/// <summary>A thin loop around <see cref="NoticeDispatcher.RunOnceAsync"/>; every instance may run one.</summary>
/// <remarks>
/// The dispatcher is resolved when the loop starts, not in the constructor: hosted services are all constructed
/// before any starts, and the DingTalk client needs the sandbox host started first.
/// </remarks>
internal sealed class NoticeWorker(IServiceProvider services, IOptions<NoticeOptions> options, TimeProvider time, ILogger<NoticeWorker> log)
    : BackgroundService
{
    /// <summary>How long one pass keeps sending a corp's batches before it looks for new notices again.</summary>
    private static readonly TimeSpan SendSlice = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.RunWorkers)
        {
            return;
        }

        var dispatcher = services.GetRequiredService<NoticeDispatcher>();
        using var timer = new PeriodicTimer(options.Value.PollInterval, time);
        do
        {
            try
            {
                await dispatcher.RunOnceAsync(SendSlice, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogError(ex, "The notice worker failed; it runs again in {Interval}", options.Value.PollInterval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
