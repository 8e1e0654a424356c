using System.Collections.Concurrent;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Execution;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>
/// TEST-ONLY stage runner for the orchestration tests (cancel, retry, resume, orphan re-queue): it runs no model, it
/// writes small files the way the engine does (each stage reads its predecessor's file from the work folder) and can
/// be told to block, fail once, or reject its input. The real flow is covered by the RealPipeline tests.
/// </summary>
public sealed class OrchestrationTestStageRunner : IStageRunner
{
    private static readonly Dictionary<PipelineStage, string> Outputs = new()
    {
        [PipelineStage.Train] = "model_fp32.pth",
        [PipelineStage.EvaluateFp32] = "fp32_eval.json",
        [PipelineStage.Calibrate] = "calibration.json",
        [PipelineStage.Convert] = "model_int8.pt",
        [PipelineStage.Compile] = "model_int8.torchscript.pt",
    };

    private readonly ConcurrentDictionary<PipelineStage, int> failuresLeft = new();

    public ConcurrentQueue<PipelineStage> Calls { get; } = new();

    /// <summary>This stage waits for cancellation (after signalling <see cref="Blocked"/>) until <see cref="Unblock"/>.</summary>
    public PipelineStage? BlockStage { get; set; }

    public TaskCompletionSource<PipelineStage> Blocked { get; private set; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TaskCompletionSource unblock = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public PipelineStage? RejectInputAt { get; set; }

    /// <summary>This stage writes its file to <c>/dev/full</c>, where every write fails with ENOSPC, as on a full disk.</summary>
    public PipelineStage? DiskFullAt { get; set; }

    public void FailOnce(PipelineStage stage, int times = 1) => failuresLeft[stage] = times;

    public void Unblock()
    {
        BlockStage = null;
        unblock.TrySetResult();
    }

    public void Reset()
    {
        Calls.Clear();
        BlockStage = null;
        RejectInputAt = null;
        DiskFullAt = null;
        failuresLeft.Clear();
        Blocked = new(TaskCreationOptions.RunContinuationsAsynchronously);
        unblock = new(TaskCreationOptions.RunContinuationsAsynchronously);
    }

    public async Task<StageOutcome> RunStageAsync(
        PipelineStage stage, OptimizationRequest request, string workDirectory, IProgress<PipelineProgress> progress, CancellationToken cancellationToken)
    {
        Calls.Enqueue(stage);
        var started = DateTime.UtcNow;
        progress.Report(new PipelineProgress(stage, 0.5, "half way"));
        var previous = OptimizationPipeline.StagesFor(request).TakeWhile(s => s != stage).LastOrDefault(s => s != stage, stage);
        if (previous != stage && !File.Exists(Path.Combine(workDirectory, Outputs[previous])))
        {
            throw new InvalidOperationException($"{stage} needs {Outputs[previous]} from {previous} in the work folder.");
        }
        if (RejectInputAt == stage)
        {
            throw new PipelineInputException("The test says this input is bad.");
        }
        if (failuresLeft.TryGetValue(stage, out var left) && left > 0)
        {
            failuresLeft[stage] = left - 1;
            throw new InvalidOperationException($"Simulated transient failure in {stage}.");
        }
        if (BlockStage == stage)
        {
            // A second report a measured while after the first gives the stage an ETA: 0.4 left at 0.1 per 1.2 s, about 5 s.
            await Task.Delay(1200, cancellationToken);
            progress.Report(new PipelineProgress(stage, 0.6, "six tenths"));
            Blocked.TrySetResult(stage);
            await unblock.Task.WaitAsync(cancellationToken);
        }
        await Task.Delay(50, cancellationToken);

        var file = DiskFullAt == stage ? "/dev/full" : Path.Combine(workDirectory, Outputs[stage]);
        await File.WriteAllTextAsync(file, $"{stage} of {request.Model} on {request.Dataset} {Guid.NewGuid()}", CancellationToken.None);
        var artifacts = stage switch
        {
            PipelineStage.Train => [new StageArtifact("model_fp32.pth", file, "application/octet-stream")],
            PipelineStage.Convert => new[]
            {
                new StageArtifact("model_int8.pt", file, "application/octet-stream"),
            },
            PipelineStage.Compile => [new StageArtifact("model_int8.torchscript.pt", file, "application/octet-stream")],
            _ => Array.Empty<StageArtifact>(),
        };
        IReadOnlyList<StageMetrics> results = stage switch
        {
            PipelineStage.EvaluateFp32 => [new("eager-fp32", "cpu", 1_090_000, 0.91, 100, 40, 2, 128)],
            PipelineStage.Convert => [new("reference-int8", "cpu", 290_000, 0.905, 100, 30, 1.5, 128)],
            PipelineStage.Compile => [new("torchscript-int8", "cpu", 300_000, 0.905, 100, 8, 0.5, 128), new("onnxruntime-int8", "cpu", 310_000, 0.904, 100, 9, 0.6, 128, Selected: false)],
            _ => [],
        };
        return new StageOutcome(stage, results, artifacts, DateTime.UtcNow - started);
    }
}
