using System.ComponentModel;

namespace ModelOpt.Engine.Pipeline;

/// <summary>The compile stage: the int8 model as a self-contained runtime file (TorchScript over LibTorch's int8 kernels, ONNX QDQ).</summary>
public sealed record CompileOptions
{
    [Description("Run the compile stage (false stops after conversion).")]
    public bool Enabled { get; init; } = true;
}
