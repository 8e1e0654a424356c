namespace ModelOpt.Jobs.Contracts;

public enum WorkerState
{
    /// <summary>Its heartbeat is recent: it takes jobs from its queue.</summary>
    Live,

    /// <summary>No heartbeat for longer than <c>ModelOpt:Workers:LostAfter</c> and no clean shutdown (killed, crashed, cut off).</summary>
    Lost,

    /// <summary>It shut down cleanly.</summary>
    Stopped,
}

/// <summary>
/// A worker of GET /api/workers: where it runs, the CPU its latencies are measured on (with the int8 instruction sets
/// AVX2, AVX-512 VNNI and AMX), its LibTorch threads and library versions, its heartbeat and the job it runs now.
/// </summary>
public sealed record WorkerDto(
    Guid Id, string Name, string Host, string Device, string Queue, WorkerState State, string CpuModel, bool Avx2, bool Avx512Vnni, bool Amx,
    int Threads, string LibTorchVersion, string OnnxRuntimeVersion, string ArtifactAccess, DateTime StartedAt, DateTime LastHeartbeatAt,
    DateTime? StoppedAt, Guid? CurrentJobId);
