using Microsoft.ML.OnnxRuntime;
using ModelOpt.Jobs.Options;
using TorchSharp;

namespace ModelOpt.Jobs.Workers;

/// <summary>This worker process: the name its job and stage rows record, and what its registry row says it runs on.</summary>
public sealed class WorkerIdentity(IOptions<WorkerOptions> options)
{
    public Guid Id { get; } = Guid.CreateVersion7();

    public string Host { get; } = Environment.MachineName;

    public string Device => options.Value.Device;

    public string Queue => options.Value.Queue;

    public ArtifactAccess ArtifactAccess => options.Value.Artifacts;

    public string Name => $"{Host}:{Environment.ProcessId}:{Device}";

    public CpuDescription Cpu { get; } = CpuDescription.OfThisMachine();

    /// <summary>LibTorch's intra-op thread count (loads LibTorch on first use).</summary>
    public int Threads => torch.get_num_threads();

    public string LibTorchVersion => torch.__version__;

    public string OnnxRuntimeVersion => OrtEnv.Instance().GetVersionString();
}
