using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Contracts;

/// <summary>
/// The stages a job will show before it runs: the engine's order, Train only when no checkpoint was given, Compile
/// unless disabled. The worker asks the engine itself (<c>OptimizationPipeline.StagesFor</c>); the API, which never
/// loads the pipeline, shows this plan.
/// </summary>
public static class JobPlan
{
    public static IReadOnlyList<PipelineStage> StagesFor(OptimizationJob job) =>
        Enum.GetValues<PipelineStage>()
            .Where(s => (s != PipelineStage.Train || job.TrainFirst) && (s != PipelineStage.Compile || job.Spec.Compile.Enabled))
            .ToList();
}
