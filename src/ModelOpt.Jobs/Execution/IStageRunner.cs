using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// The engine's pipeline as the job runner sees it: one stage at a time over a work directory that persists between attempts (a crashed job resumes from its last completed stage).
/// Production: <see cref="EnginePipelineStageRunner"/> over <c>ModelOpt.Engine.Pipeline.OptimizationPipeline</c>.
/// </summary>
public interface IStageRunner
{
    /// <exception cref="OperationCanceledException">The token was cancelled.</exception>
    /// <exception cref="PipelineInputException">Bad checkpoint, data or options: the job fails without retry.</exception>
    Task<StageOutcome> RunStageAsync(
        PipelineStage stage, OptimizationRequest request, string workDirectory, IProgress<PipelineProgress> progress, CancellationToken cancellationToken);
}
