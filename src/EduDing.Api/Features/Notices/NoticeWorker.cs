using Microsoft.Extensions.Options;

namespace EduDing.Api.Features.Notices;

/// <summary>A thin loop around <see cref="NoticeDispatcher.RunOnceAsync"/>; every instance may run one.</summary>
internal sealed class NoticeWorker(NoticeDispatcher dispatcher, IOptions<NoticeOptions> options, TimeProvider time, ILogger<NoticeWorker> log)
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
