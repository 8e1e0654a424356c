using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Execution;

/// <summary>The production <see cref="IStageRunner"/>: the engine's <see cref="OptimizationPipeline"/>.</summary>
public sealed class EnginePipelineStageRunner : IStageRunner
{
    private readonly OptimizationPipeline pipeline = new();

    public Task<StageOutcome> RunStageAsync(
        PipelineStage stage, OptimizationRequest request, string workDirectory, IProgress<PipelineProgress> progress, CancellationToken cancellationToken) =>
        pipeline.RunStageAsync(stage, request, workDirectory, progress, cancellationToken);
}
