using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Workers;

/// <summary>
/// Keeps this worker's registry row: inserted at start (before the Hangfire server takes a job, where the schema
/// already exists), then a heartbeat with the job it runs every <see cref="WorkerRegistryOptions.HeartbeatInterval"/>,
/// and <c>StoppedAt</c> on a clean shutdown. A killed worker simply stops beating and is shown as lost.
/// </summary>
public sealed class WorkerRegistration(
    IServiceScopeFactory scopes, WorkerIdentity identity, IOptions<WorkerRegistryOptions> options, TimeProvider time, ILogger<WorkerRegistration> logger)
    : BackgroundService
{
    private bool registered;

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await TryBeatAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                await TryBeatAsync(stoppingToken);
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down: StopAsync marks the row.
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
            var now = time.GetUtcNow().UtcDateTime;
            await db.Workers.Where(w => w.Id == identity.Id).ExecuteUpdateAsync(s => s
                .SetProperty(w => w.StoppedAt, now)
                .SetProperty(w => w.LastHeartbeatAt, now)
                .SetProperty(w => w.CurrentJobId, (Guid?)null), cancellationToken);
            logger.LogInformation("Worker {Worker} deregistered", identity.Name);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning(e, "Worker {Worker} could not mark itself stopped; it will be shown as lost", identity.Name);
        }
    }

    private async Task TryBeatAsync(CancellationToken cancellationToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
            var now = time.GetUtcNow().UtcDateTime;
            if (registered)
            {
                var current = await db.Jobs
                    .Where(j => j.WorkerName == identity.Name && j.Status == JobStatus.Running && j.ExecutionId != null)
                    .Select(j => (Guid?)j.Id).FirstOrDefaultAsync(cancellationToken);
                registered = await db.Workers.Where(w => w.Id == identity.Id).ExecuteUpdateAsync(s => s
                    .SetProperty(w => w.LastHeartbeatAt, now)
                    .SetProperty(w => w.CurrentJobId, current), cancellationToken) == 1;
            }
            if (!registered)
            {
                db.Workers.Add(new RegisteredWorker
                {
                    Id = identity.Id,
                    Name = identity.Name,
                    Host = identity.Host,
                    Device = identity.Device,
                    Queue = identity.Queue,
                    CpuModel = identity.Cpu.Model,
                    Avx2 = identity.Cpu.Avx2,
                    Avx512Vnni = identity.Cpu.Avx512Vnni,
                    Amx = identity.Cpu.Amx,
                    Threads = identity.Threads,
                    LibTorchVersion = identity.LibTorchVersion,
                    OnnxRuntimeVersion = identity.OnnxRuntimeVersion,
                    ArtifactAccess = identity.ArtifactAccess.ToString(),
                    StartedAt = now,
                    LastHeartbeatAt = now,
                });
                await db.SaveChangesAsync(cancellationToken);
                registered = true;
                logger.LogInformation(
                    "Worker {Worker} registered on queue {Queue}: {Cpu}, {Threads} threads, LibTorch {LibTorch}, ONNX Runtime {OnnxRuntime}, artifacts via {ArtifactAccess}",
                    identity.Name, identity.Queue, identity.Cpu.Model, identity.Threads, identity.LibTorchVersion, identity.OnnxRuntimeVersion, identity.ArtifactAccess);
            }
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The database may not be migrated yet, or be down for a moment: the next beat tries again.
            logger.LogWarning(e, "Worker {Worker} heartbeat failed; trying again in {Interval}", identity.Name, options.Value.HeartbeatInterval);
        }
    }
}
