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
/// The notebook as stages: train (when no checkpoint is given) → evaluate FP32 → calibrate (observers and their qparams)
/// → QAT (when asked) → convert (the int8 graph and its kernels, the per-layer report, the accuracy budget) → compile.
/// Stages communicate only through files in the job's <see cref="JobWorkspace"/>, so any stage can run in a fresh
/// process after the ones before it completed. Within one process the pipeline also keeps what a job's stages loaded
/// (<see cref="JobMemory"/>) for its next stage, until the job's last stage ends, a stage fails, or
/// <see cref="MaxJobsInMemory"/> other jobs have run since.
/// </summary>
public sealed class OptimizationPipeline
{
    /// <summary>Jobs whose loaded data and models stay in memory between stages; the least recently run idle one goes first.</summary>
    public const int MaxJobsInMemory = 2;

    private readonly Lock gate = new();
    private readonly List<(string Directory, JobMemory Memory)> memories = [];
    private readonly Dictionary<string, int> running = [];

    /// <summary>The stages in order; Train only when the job starts without a checkpoint, Qat when enabled (or automatic with a budget), Compile unless it is disabled.</summary>
    public static IReadOnlyList<PipelineStage> StagesFor(bool trainFirst, bool compile = true, bool qat = false) =>
        [.. Enum.GetValues<PipelineStage>().Where(s => (trainFirst || s != PipelineStage.Train) && (compile || s != PipelineStage.Compile) && (qat || s != PipelineStage.Qat))];

    public static IReadOnlyList<PipelineStage> StagesFor(OptimizationRequest request) =>
        StagesFor(trainFirst: request.CheckpointPath is null, compile: request.CompileEnabled,
            qat: Quantization.Qat.QatOptions.RunsStage(request.Qat, request.Quantization.MaxAccuracyDrop));

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
            () => RunStageWithMemory(stage, request, workDirectory, progress, cancellationToken),
            cancellationToken,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

    private StageOutcome RunStageWithMemory(
        PipelineStage stage, OptimizationRequest request, string workDirectory, IProgress<PipelineProgress> progress, CancellationToken cancellationToken)
    {
        var memory = Acquire(Path.GetFullPath(workDirectory));
        var finished = false;
        try
        {
            var outcome = RunStage(stage, request, new JobWorkspace(workDirectory), memory, progress, cancellationToken);
            finished = StagesFor(request)[^1] == stage;
            return outcome;
        }
        catch
        {
            finished = true;
            throw;
        }
        finally
        {
            Release(Path.GetFullPath(workDirectory), finished);
        }
    }

    private JobMemory Acquire(string directory)
    {
        lock (gate)
        {
            var index = memories.FindIndex(m => m.Directory == directory);
            var entry = index >= 0 ? memories[index] : (directory, new JobMemory());
            if (index >= 0)
            {
                memories.RemoveAt(index);
            }
            memories.Add(entry);
            running[directory] = running.GetValueOrDefault(directory) + 1;
            foreach (var idle in memories.Where(m => !running.ContainsKey(m.Directory)).SkipLast(MaxJobsInMemory - 1).ToList())
            {
                memories.Remove(idle);
                idle.Memory.Dispose();
            }
            return entry.Item2;
        }
    }

    private void Release(string directory, bool jobFinished)
    {
        lock (gate)
        {
            if (--running[directory] == 0)
            {
                running.Remove(directory);
                if (jobFinished && memories.FindIndex(m => m.Directory == directory) is var index and >= 0)
                {
                    memories[index].Memory.Dispose();
                    memories.RemoveAt(index);
                }
            }
        }
    }

    private static StageOutcome RunStage(
        PipelineStage stage, OptimizationRequest request, JobWorkspace workspace, JobMemory memory, IProgress<PipelineProgress> progress,
        CancellationToken cancellationToken)
    {
        var stopwatch = Stopwatch.StartNew();
        try
        {
            var context = new StageContext(stage, request, workspace, memory, progress, cancellationToken);
            using var scope = NewDisposeScope();
            var result = stage switch
            {
                PipelineStage.Train => TrainStage.Run(context),
                PipelineStage.EvaluateFp32 => EvaluateFp32Stage.Run(context),
                PipelineStage.Calibrate => CalibrateStage.Run(context),
                PipelineStage.Qat => QatStage.Run(context),
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
