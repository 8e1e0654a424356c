using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Qat;

namespace ModelOpt.Jobs.Contracts;

/// <summary>The stages a job runs, in order: the engine's plan (Train only when no checkpoint was given, Qat when enabled or automatic with a budget, Compile unless disabled).</summary>
public static class JobPlan
{
    public static IReadOnlyList<PipelineStage> StagesFor(OptimizationJob job) =>
        OptimizationPipeline.StagesFor(trainFirst: job.TrainFirst, compile: job.Spec.Compile.Enabled, qat: QatOptions.RunsStage(job.Spec.Qat, job.Spec.Quantization.MaxAccuracyDrop));
}
