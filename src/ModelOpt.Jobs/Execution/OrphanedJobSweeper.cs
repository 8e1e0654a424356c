using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelOpt.Jobs.Dispatch;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Lifecycle;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// Re-queues jobs of this worker's queue whose run died: status Running but no heartbeat for
/// <see cref="WorkerOptions.HeartbeatTimeout"/> (a killed process); the dispatch relay hands them to a worker again.
/// Runs at start and then every <see cref="WorkerOptions.OrphanSweepInterval"/>. We do not rely on the storage's
/// invisibility timeout (30 min for PostgreSQL) to notice a dead worker: the heartbeat in the job row is faster and works
/// the same on every storage. The claim in <see cref="OptimizationJobRunner"/> makes a duplicate dispatch harmless.
/// </summary>
public sealed class OrphanedJobSweeper(
    IServiceScopeFactory scopes, JobStateMachine states, DispatchSignal dispatch, IOptions<WorkerOptions> options, TimeProvider time,
    ILogger<OrphanedJobSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        do
        {
            try
            {
                await SweepAsync(stoppingToken);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Orphaned-job sweep failed; trying again later");
            }
        }
        while (await Delay(stoppingToken));
    }

    private async Task<bool> Delay(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(options.Value.OrphanSweepInterval, time, stoppingToken);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async Task<int> SweepAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        var queue = options.Value.Queue;
        var staleBefore = time.GetUtcNow().UtcDateTime - options.Value.HeartbeatTimeout;
        var orphans = await db.Jobs
            .Where(j => j.Queue == queue && j.Status == JobStatus.Running && (j.HeartbeatAt == null || j.HeartbeatAt < staleBefore))
            .Select(j => new { j.Id, j.HeartbeatAt })
            .ToListAsync(cancellationToken);
        var requeued = 0;
        foreach (var orphan in orphans)
        {
            if (!await states.RequeueOrphanAsync(orphan.Id, orphan.HeartbeatAt, cancellationToken))
            {
                continue;
            }
            using (logger.BeginScope(new Dictionary<string, object> { ["JobId"] = orphan.Id }))
            {
                logger.LogWarning("Job {JobId} was orphaned (last heartbeat {HeartbeatAt:o}); re-queued", orphan.Id, orphan.HeartbeatAt);
            }
            requeued++;
        }
        if (requeued > 0)
        {
            dispatch.Notify();
        }
        return requeued;
    }
}
