using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Execution;

/// <summary>The production <see cref="IStageRunner"/>: the engine's <see cref="OptimizationPipeline"/>, with its input errors translated.</summary>
public sealed class EnginePipelineStageRunner : IStageRunner
{
    private readonly OptimizationPipeline pipeline = new();

    public IReadOnlyList<PipelineStage> StagesFor(OptimizationRequest request) => OptimizationPipeline.StagesFor(request);

    public async Task<StageOutcome> RunStageAsync(
        PipelineStage stage, OptimizationRequest request, string workDirectory, IProgress<PipelineProgress> progress, CancellationToken cancellationToken)
    {
        try
        {
            return await pipeline.RunStageAsync(stage, request, workDirectory, progress, cancellationToken);
        }
        catch (PipelineInputException e)
        {
            throw new PipelineInputRejectedException(e.Message, e);
        }
    }
}
