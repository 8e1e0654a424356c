using Microsoft.Extensions.DependencyInjection;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// Watches one run of a job: every poll it writes the heartbeat and the latest progress, and stops the run (cancels its
/// token) when a cancel was requested or another run has taken the job over. A database hiccup skips one beat only.
/// </summary>
internal sealed class JobMonitor(IServiceScopeFactory scopes, TimeProvider time, TimeSpan pollInterval, ILogger logger) : IAsyncDisposable
{
    private readonly CancellationTokenSource stop = new();
    private Task running = Task.CompletedTask;

    public enum StopReason
    {
        None,
        CancelRequested,
        LostOwnership,
    }

    public StopReason Reason { get; private set; }

    /// <summary>Cancelled when the monitor stops the run.</summary>
    public CancellationToken Stopped => stop.Token;

    public void Start(Guid jobId, Guid executionId, ProgressTracker tracker, CancellationToken cancellationToken) =>
        running = RunAsync(jobId, executionId, tracker, cancellationToken);

    private async Task RunAsync(Guid jobId, Guid executionId, ProgressTracker tracker, CancellationToken cancellationToken)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stop.Token);
        using var timer = new PeriodicTimer(pollInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(linked.Token))
            {
                var reason = await BeatAsync(jobId, executionId, tracker.Current, linked.Token);
                if (reason != StopReason.None)
                {
                    Reason = reason;
                    await stop.CancelAsync();
                    return;
                }
            }
        }
        catch (OperationCanceledException)
        {
            // The run ended or is stopping.
        }
    }

    private async Task<StopReason> BeatAsync(Guid jobId, Guid executionId, ProgressTracker.Snapshot snapshot, CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
            var now = time.GetUtcNow().UtcDateTime;
            var owned = await db.Jobs
                .Where(j => j.Id == jobId && j.ExecutionId == executionId)
                .ExecuteUpdateAsync(s => s
                    .SetProperty(j => j.HeartbeatAt, now)
                    .SetProperty(j => j.CurrentStage, snapshot.Stage)
                    .SetProperty(j => j.Progress, snapshot.Percent)
                    .SetProperty(j => j.ProgressMessage, snapshot.Message)
                    .SetProperty(j => j.EtaSeconds, snapshot.EtaSeconds), cancellationToken);
            if (owned == 0)
            {
                return StopReason.LostOwnership;
            }
            if (await db.Jobs.AnyAsync(j => j.Id == jobId && j.CancelRequested, cancellationToken))
            {
                logger.LogInformation("Cancel requested for job {JobId}", jobId);
                return StopReason.CancelRequested;
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Heartbeat of job {JobId} failed", jobId);
        }
        return StopReason.None;
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await running;
        stop.Dispose();
    }
}
