using System.Diagnostics;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline.Stages;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Runtime;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// The notebook as stages: train (when no checkpoint is given) → evaluate FP32 → calibrate → convert → compile.
/// Stages communicate only through files in the job's <see cref="JobWorkspace"/>, so any stage can run in a fresh
/// process after the ones before it completed.
/// </summary>
public sealed class OptimizationPipeline
{
    /// <summary>The stages in order; Train only when the job starts without a checkpoint.</summary>
    public static IReadOnlyList<PipelineStage> StagesFor(bool trainFirst) =>
        [.. Enum.GetValues<PipelineStage>().Where(s => trainFirst || s != PipelineStage.Train)];

    public static IReadOnlyList<PipelineStage> StagesFor(OptimizationRequest request) => StagesFor(trainFirst: request.CheckpointPath is null);

    /// <summary>Runs one stage on a worker thread.</summary>
    /// <exception cref="PipelineInputException">The checkpoint, data or options are unusable; retrying will not help.</exception>
    /// <exception cref="OperationCanceledException">Cancelled between or inside batches.</exception>
    public Task<StageOutcome> RunStageAsync(
        PipelineStage stage,
        OptimizationRequest request,
        string workDirectory,
        IProgress<PipelineProgress> progress,
        CancellationToken cancellationToken) =>
        Task.Factory.StartNew(
            () => RunStage(stage, request, new JobWorkspace(workDirectory), progress, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private static StageOutcome RunStage(
        PipelineStage stage, OptimizationRequest request, JobWorkspace workspace, IProgress<PipelineProgress> progress, CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            using var context = new StageContext(stage, request, workspace, progress, cancellationToken);
            using var scope = NewDisposeScope();
            var result = stage switch
            {
                PipelineStage.Train => TrainStage.Run(context),
                PipelineStage.EvaluateFp32 => EvaluateFp32Stage.Run(context),
                PipelineStage.Calibrate => CalibrateStage.Run(context),
                PipelineStage.Convert => ConvertStage.Run(context),
                PipelineStage.Compile => CompileStage.Run(context),
                _ => throw new ArgumentOutOfRangeException(nameof(stage), stage, null),
            };
            context.Report(1, "done");
            return new StageOutcome(stage, result.Metrics, result.Artifacts, stopwatch.Elapsed, result.Layers, result.Calibration);
        }
        catch (Exception e) when (IsInputError(e))
        {
            throw new PipelineInputException(e.Message, e);
        }
    }

    private static bool IsInputError(Exception e) => e is
        CheckpointFormatException or CheckpointMismatchException or DatasetException or UnknownDatasetException
        or UnknownModelException or Int8CheckpointException or QuantizationException or ArgumentException
        or OnnxFormatException or UnsupportedOnnxModelException;
}
