using ModelOpt.Engine.Pipeline.Stages;
using ModelOpt.Engine.Runtime;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// What a stage result's backend says to a user: whether the form is FP32 (the eager model, or ONNX Runtime's optimized
/// FP32 baseline, which is timed but never delivered), and which of the job's files holds the form.
/// </summary>
public static class ModelForms
{
    public static bool IsFp32(string backend) => backend is EvaluateFp32Stage.Backend or CompileStage.OnnxRuntimeFp32Backend;

    /// <summary>
    /// The artifact that runs the form: <c>model-int8.pt</c> for the TorchScript archive under either quantized engine,
    /// <c>model-int8.onnx</c> for ONNX Runtime's QDQ model, <c>model-int8-onednn-fused.pt</c> for the fused archive,
    /// <c>model-fp32.onnx</c> for ONNX Runtime's FP32 baseline; null for the eager FP32 model (the job's own checkpoint).
    /// </summary>
    public static string? FileOf(string backend) => backend switch
    {
        CompileStage.OnnxRuntimeFp32Backend => JobWorkspace.Fp32Onnx,
        CompileStage.OnnxRuntimeQdqBackend => JobWorkspace.Int8Onnx,
        CompileStage.OneDnnFusedBackend => JobWorkspace.Int8OneDnnFusedTorchScript,
        _ when Enum.GetValues<QEngine>().Any(engine => ConvertStage.Backend(engine) == backend) => JobWorkspace.Int8TorchScript,
        _ => null,
    };
}
