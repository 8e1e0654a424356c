using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Model;

namespace ModelOpt.Jobs.Contracts;

/// <summary>
/// A job's result in one line: the FP32 model, the converted int8 model, and the form the job delivers (the compile
/// stage's pick, or the converted model when the job did not compile). Null until the FP32 and converted forms are measured.
/// </summary>
/// <param name="SpeedUp">FP32 latency over the delivered form's latency, same batch size.</param>
/// <param name="SizeRatio">The delivered form's size over the FP32 size.</param>
public sealed record JobHeadline(
    double Fp32Accuracy, double Int8Accuracy, double DeliveredAccuracy, double Fp32LatencyMs, double DeliveredLatencyMs,
    double SpeedUp, double SizeRatio, string DeliveredBackend)
{
    public static JobHeadline? From(IEnumerable<StageResult> results)
    {
        var rows = results.ToList();
        StageResult? Pick(PipelineStage stage) => rows.Where(r => r.Stage == stage && r.Selected).OrderBy(r => r.Ordinal).FirstOrDefault();
        var fp32 = Pick(PipelineStage.EvaluateFp32);
        var int8 = Pick(PipelineStage.Convert);
        var delivered = Pick(PipelineStage.Compile) ?? int8;
        if (fp32 is null || int8 is null || delivered is null || delivered.LatencyMeanMs <= 0 || fp32.SizeBytes <= 0)
        {
            return null;
        }
        return new JobHeadline(fp32.Accuracy, int8.Accuracy, delivered.Accuracy, fp32.LatencyMeanMs, delivered.LatencyMeanMs,
            fp32.LatencyMeanMs / delivered.LatencyMeanMs, (double)delivered.SizeBytes / fp32.SizeBytes, delivered.Backend);
    }
}
