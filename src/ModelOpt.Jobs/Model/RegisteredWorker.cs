namespace ModelOpt.Jobs.Model;

/// <summary>
/// A worker process as it registered itself: what it runs on and when it last beat. Written only by that worker
/// (<c>WorkerRegistration</c>); a row whose heartbeat is older than <c>ModelOpt:Workers:LostAfter</c> is a lost worker.
/// </summary>
public sealed class RegisteredWorker
{
    public Guid Id { get; set; }

    /// <summary>"{host}:{pid}:{device}", the name job and stage rows record.</summary>
    public required string Name { get; set; }
    public required string Host { get; set; }
    public required string Device { get; set; }
    public required string Queue { get; set; }
    public required string CpuModel { get; set; }
    public bool Avx2 { get; set; }
    public bool Avx512Vnni { get; set; }
    public bool Amx { get; set; }

    /// <summary>LibTorch's intra-op threads in this process.</summary>
    public int Threads { get; set; }
    public required string LibTorchVersion { get; set; }
    public required string OnnxRuntimeVersion { get; set; }

    /// <summary><c>SharedFolder</c> or <c>Api</c>: how this worker reads inputs and stores artifacts.</summary>
    public required string ArtifactAccess { get; set; }
    public DateTime StartedAt { get; set; }
    public DateTime LastHeartbeatAt { get; set; }

    /// <summary>Set when the worker shut down cleanly; a lost worker never sets it.</summary>
    public DateTime? StoppedAt { get; set; }
    public Guid? CurrentJobId { get; set; }
}
