using System.ComponentModel;

namespace ModelOpt.Engine.Pipeline;

/// <summary>The compile stage: the int8 model as a self-contained runtime file (TorchScript over LibTorch's int8 kernels, ONNX QDQ).</summary>
public sealed record CompileOptions
{
    [Description("Run the compile stage (false stops after conversion).")]
    public bool Enabled { get; init; } = true;

    /// <summary>Off by default: only the forms whose score can change the choice are scored (issue 28).</summary>
    [Description("Score every compile form on the test images (a generic job: its evaluation images), not only those whose score can change the choice: a complete comparison table for one test-set pass per form more.")]
    public bool ScoreEveryForm { get; init; }
}
