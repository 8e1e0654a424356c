using ModelOpt.Jobs.Contracts;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Workers;

/// <summary>Reads the worker registry: who is live, lost or stopped, and whether a queue has a live worker (the API's routing check).</summary>
public sealed class WorkerRegistry(ModelOptDbContext db, IOptions<WorkerRegistryOptions> options, TimeProvider time)
{
    /// <summary>The job row's status message while no live worker serves its queue.</summary>
    public static string WaitingMessage(string device) => $"Waiting for a {device} worker: none is connected";

    /// <summary>The warning a job for such a device carries (in the 202 answer, and in GET while it is queued).</summary>
    public static string NoWorkerWarning(string device, string queue) =>
        $"No live worker serves device '{device}' (queue '{queue}'): the job waits until one connects. "
        + "GET /api/workers lists the connected workers.";

    /// <summary>Live workers first, then lost and stopped ones of the last <see cref="WorkerRegistryOptions.ListStoppedFor"/>.</summary>
    public async Task<IReadOnlyList<WorkerDto>> ListAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var shownSince = now - options.Value.ListStoppedFor;
        var rows = await db.Workers.AsNoTracking()
            .Where(w => w.LastHeartbeatAt >= shownSince)
            .ToListAsync(cancellationToken);
        return rows.Select(w => ToDto(w, StateOf(w, now)))
            .OrderBy(w => w.State).ThenBy(w => w.Queue).ThenBy(w => w.Name)
            .ToList();
    }

    /// <summary>Whether a worker of <paramref name="queue"/> has beaten within <see cref="WorkerRegistryOptions.LostAfter"/>.</summary>
    public Task<bool> ServesAsync(string queue, CancellationToken cancellationToken)
    {
        var liveSince = LiveSince(time.GetUtcNow().UtcDateTime);
        return db.Workers.AnyAsync(w => w.Queue == queue && w.StoppedAt == null && w.LastHeartbeatAt >= liveSince, cancellationToken);
    }

    /// <summary>The warnings of a job that is still waiting for a worker: none once a worker of its queue is live.</summary>
    public async Task<IReadOnlyList<string>> WarningsForQueuedAsync(string device, string queue, CancellationToken cancellationToken) =>
        await ServesAsync(queue, cancellationToken) ? [] : [NoWorkerWarning(device, queue)];

    // A worker is live when not stopped and beaten since this moment; the routing query and the listing both read it.
    private DateTime LiveSince(DateTime now) => now - options.Value.LostAfter;

    private WorkerState StateOf(RegisteredWorker w, DateTime now) =>
        w.StoppedAt is not null ? WorkerState.Stopped
        : w.LastHeartbeatAt < LiveSince(now) ? WorkerState.Lost
        : WorkerState.Live;

    private static WorkerDto ToDto(RegisteredWorker w, WorkerState state) =>
        new(w.Id, w.Name, w.Host, w.Device, w.Queue, state, w.CpuModel, w.Avx2, w.Avx512Vnni, w.Amx, w.Threads, w.LibTorchVersion,
            w.OnnxRuntimeVersion, w.ArtifactAccess, w.StartedAt, w.LastHeartbeatAt, w.StoppedAt, state == WorkerState.Live ? w.CurrentJobId : null);
}
