using System.Text.Json;
using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// The FP32 model's size, accuracy and latency, as the notebook measures the full model. A generic job's FP32 row has no
/// accuracy: its outputs on the evaluation images are recorded instead, the reference of every int8 form (ADR-020).
/// </summary>
internal static class EvaluateFp32Stage
{
    public const string Backend = "torchsharp-fp32-eager";

    public static StageProducts Run(StageContext context)
    {
        var model = context.OpenFp32();
        if (context.IsGeneric)
        {
            context.Workspace.Delete(JobWorkspace.Fp32TestAccuracy);
            return new StageProducts([ModelMeasurement.RecordFp32(context, Backend, model.Forward, model.SizeBytes)], []);
        }
        var metrics = ModelMeasurement.Measure(context, Backend, model.Forward, model.SizeBytes);
        var accuracy = new AccuracyResult((int)Math.Round(metrics.Accuracy!.Value * metrics.ImagesScored), metrics.ImagesScored);
        context.Workspace.Write(JobWorkspace.Fp32TestAccuracy, path => File.WriteAllText(path, JsonSerializer.Serialize(accuracy)));
        return new StageProducts([metrics], []);
    }
}
