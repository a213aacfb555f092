namespace EduDing.Api.Hosting;

/// <summary>
/// The base of every background worker: a thin periodic loop around one service call, which tests call directly. Every
/// instance runs it; the service call coordinates instances through the database (leases, claims), never through this
/// loop. A failing pass is logged and the next one runs at the next tick.
/// </summary>
/// <remarks>
/// Services are resolved per pass from a fresh scope, not in the constructor: hosted services are all constructed
/// before any starts, and the DingTalk client needs the sandbox host started first.
/// </remarks>
internal abstract class PeriodicWorker(IServiceScopeFactory scopes, TimeProvider time, ILogger log) : BackgroundService
{
    /// <summary>False turns the worker off (tests that call the service themselves, a read-only instance).</summary>
    protected abstract bool Enabled { get; }

    protected abstract TimeSpan Interval { get; }

    protected abstract Task RunOnceAsync(IServiceProvider services, CancellationToken ct);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!Enabled)
        {
            return;
        }

        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                await RunOnceAsync(scope.ServiceProvider, stoppingToken);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogError(ex, "{Worker} failed; it runs again in {Interval}", GetType().Name, Interval);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
