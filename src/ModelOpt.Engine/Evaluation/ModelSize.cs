using TorchSharp.PyBridge;

namespace ModelOpt.Engine.Evaluation;

/// <summary>The notebook's <c>print_size_of_model</c>: bytes of the state_dict saved in PyTorch's <c>.pth</c> format.</summary>
public static class ModelSize
{
    /// <summary>Length of what <c>torch.save(model.state_dict(), f)</c> writes, computed without touching the disk.</summary>
    public static long StateDictBytes(nn.Module model)
    {
        using var sink = new CountingStream();
        model.save_py(sink, skip: null, leaveOpen: true);
        return sink.Length;
    }

    /// <summary>Megabytes as the notebook prints them (10^6 bytes).</summary>
    public static double Megabytes(long bytes) => bytes / 1e6;
}
