using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Dispatch;

/// <summary>
/// The outbox's relay: hands every queued job marked <see cref="OptimizationJob.DispatchPending"/> to Hangfire, in
/// submission order, batch after batch, and clears the mark with the Hangfire id. Runs in the API and in every worker.
/// Dispatch is at least once — the mark is cleared only after Hangfire accepted the job, so a crash in between, or two
/// relays seeing the same row, enqueue it twice — and the run's claim makes execution exactly once. A Hangfire outage
/// leaves the marks in place; the next pass retries them.
/// </summary>
public sealed class JobDispatchRelay(
    IServiceScopeFactory scopes, DispatchSignal signal, IOptions<DispatchOptions> options, ILogger<JobDispatchRelay> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                while (await DispatchPendingAsync(stoppingToken) == options.Value.BatchSize)
                {
                }
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                logger.LogWarning(e, "Dispatching queued jobs failed; the next pass tries again");
            }
            try
            {
                await signal.WaitAsync(options.Value.PollInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    /// <summary>One pass: dispatches up to <see cref="DispatchOptions.BatchSize"/> jobs; returns how many it handed over.</summary>
    public async Task<int> DispatchPendingAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        var dispatcher = scope.ServiceProvider.GetRequiredService<JobDispatcher>();
        var pending = await db.Jobs
            .Where(j => j.DispatchPending && j.Status == JobStatus.Queued)
            .OrderBy(j => j.CreatedAt)
            .Take(options.Value.BatchSize)
            .Select(j => new { j.Id, j.Queue })
            .ToListAsync(cancellationToken);
        foreach (var job in pending)
        {
            var hangfireId = dispatcher.Enqueue(job.Id, job.Queue);
            await db.Jobs
                .Where(j => j.Id == job.Id && j.DispatchPending)
                .ExecuteUpdateAsync(s => s.SetProperty(j => j.DispatchPending, false).SetProperty(j => j.HangfireJobId, hangfireId), cancellationToken);
        }
        if (pending.Count > 0)
        {
            logger.LogDebug("Dispatched {Count} queued jobs", pending.Count);
        }
        return pending.Count;
    }
}
