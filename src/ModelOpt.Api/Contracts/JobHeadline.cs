using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Model;

namespace ModelOpt.Api.Contracts;

// Plain comments, not XML docs: the API's XML file feeds Swashbuckle, and these would change the OpenAPI document (ADR-026).

// A job's result in one line: the FP32 model, the converted int8 model, and the form the job delivers (the compile
// stage's pick, or the converted model when the job did not compile). Null until the FP32 and converted forms are measured.
// Fp32Accuracy: Top-1 on the test images; the three accuracies are null for a generic job, whose forms carry fidelity instead.
// SpeedUp: The FP32 eager model's latency (the notebook's baseline) over the delivered form's, same batch size.
// SizeRatio: The delivered form's size over the FP32 size.
// FastestFp32Backend: The fastest FP32 form measured: the eager model, or ONNX Runtime's optimized FP32 model when the job compiled.
// SpeedUpOverFastestFp32: The fastest FP32 form's latency over the delivered form's: the gain over the best FP32 model one could already deploy.
// ImagesScored: Test images the delivered form's accuracy was measured on.
// Fp32ImagesScored: Test images the FP32 accuracy was measured on (the same images when it equals ImagesScored).
// DeliveredArtifact: The artifact that holds the delivered form (e.g. model-int8.onnx).
// Int8Fidelity: The converted int8 form's fidelity to FP32, one entry per graph output the job measured; null when the
// job compared no outputs (a classification job).
// DeliveredFidelity: The delivered form's, likewise (the same as Int8Fidelity when the job did not compile).
public sealed record JobHeadline(
    double? Fp32Accuracy, double? Int8Accuracy, double? DeliveredAccuracy, double Fp32LatencyMs, double DeliveredLatencyMs,
    double SpeedUp, double SizeRatio, string DeliveredBackend,
    string FastestFp32Backend, double FastestFp32LatencyMs, double SpeedUpOverFastestFp32, int ImagesScored, int Fp32ImagesScored,
    string? DeliveredArtifact, IReadOnlyList<OutputFidelityDto>? Int8Fidelity = null, IReadOnlyList<OutputFidelityDto>? DeliveredFidelity = null)
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
        var fastestFp32 = rows.Where(r => ModelForms.IsFp32(r.Backend) && r.LatencyMeanMs > 0 && r.BatchSize == delivered.BatchSize)
            .Append(fp32).MinBy(r => r.LatencyMeanMs)!;
        return new JobHeadline(fp32.Accuracy, int8.Accuracy, delivered.Accuracy, fp32.LatencyMeanMs, delivered.LatencyMeanMs,
            fp32.LatencyMeanMs / delivered.LatencyMeanMs, (double)delivered.SizeBytes / fp32.SizeBytes, delivered.Backend,
            fastestFp32.Backend, fastestFp32.LatencyMeanMs, fastestFp32.LatencyMeanMs / delivered.LatencyMeanMs,
            delivered.ImagesScored, fp32.ImagesScored, ModelForms.FileOf(delivered.Backend),
            OutputFidelityDto.From(int8.Fidelity), OutputFidelityDto.From(delivered.Fidelity));
    }
}
