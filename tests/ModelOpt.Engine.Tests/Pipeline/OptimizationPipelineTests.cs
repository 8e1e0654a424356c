using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Runtime.TorchScript;

namespace ModelOpt.Engine.Tests.Pipeline;

public class OptimizationPipelineTests : IDisposable
{
    private readonly string workDirectory = Directory.CreateTempSubdirectory("modelopt-pipeline-").FullName;

    private static OptimizationRequest SmallFashionMnistJob(string? checkpoint = null) => new(
        ModelZoo.ResNet20,
        DatasetCatalog.FashionMnistName,
        DataPath: null,
        CheckpointPath: checkpoint,
        new TrainingOptions(Epochs: 1, LearningRate: 0.05, BatchSize: 64, TrainSubset: 3000, Seed: 1),
        new QuantizationOptions(CalibrationImages: 128, CalibrationBatchSize: 64),
        new EvaluationOptions(TestSubset: 1000, LatencyBatchSize: 32, WarmupRuns: 1, TimedRuns: 3));

    [Fact]
    public async Task Every_stage_runs_in_a_fresh_pipeline_and_the_int8_model_keeps_the_fp32_accuracy()
    {
        var request = SmallFashionMnistJob();
        var outcomes = new List<StageOutcome>();
        var reports = new List<PipelineProgress>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            // A new pipeline per stage: stages share nothing but the work directory, as after a worker restart.
            var pipeline = new OptimizationPipeline();
            outcomes.Add(await pipeline.RunStageAsync(stage, request, workDirectory, new SynchronousProgress(reports.Add), CancellationToken.None));
        }

        Assert.Equal([PipelineStage.Train, PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Compile],
            outcomes.Select(o => o.Stage));
        Assert.Contains(reports, r => r.Stage == PipelineStage.Train && r.Message.Contains("loss"));
        var fp32 = Assert.Single(outcomes[1].Results);
        var int8 = Assert.Single(outcomes[3].Results);
        Assert.Equal(1000, fp32.ImagesScored);
        Assert.True(fp32.Accuracy > 0.70, $"FP32 accuracy {fp32.Accuracy:P2}");
        Assert.True(Math.Abs(fp32.Accuracy - int8.Accuracy) < 0.02, $"FP32 {fp32.Accuracy:P2} vs int8 {int8.Accuracy:P2}");
        Assert.True(int8.SizeBytes < 0.35 * fp32.SizeBytes, $"int8 {int8.SizeBytes} B vs FP32 {fp32.SizeBytes} B");

        var compiled = outcomes[4].Results;
        var selected = Assert.Single(compiled, m => m.Selected);
        Assert.True(Math.Abs(selected.Accuracy - int8.Accuracy) * 100 <= CandidateSelection.MaxAccuracyDifferencePoints);
        Assert.All(outcomes.SelectMany(o => o.Artifacts), a => Assert.True(File.Exists(a.Path), a.Path));
        Assert.Contains(outcomes[4].Artifacts, a => a.Name == JobWorkspace.Int8Onnx);

        // The downloadable int8 checkpoint reproduces the recorded accuracy on its own.
        using var reloaded = TorchScriptInt8Model.Load(Path.Combine(workDirectory, JobWorkspace.Int8TorchScript));
        using var data = DatasetCatalog.Open(DatasetCatalog.FashionMnistName);
        var accuracy = ModelOpt.Engine.Evaluation.AccuracyEvaluator.Measure(reloaded.Run, data.Test, 1000);
        Assert.Equal(int8.Accuracy, accuracy.Accuracy);
    }

    [Fact]
    public async Task A_mismatched_checkpoint_is_an_input_error_naming_the_problem()
    {
        var checkpoint = Path.Combine(AppContext.BaseDirectory, "TestData", "resnet20_1ch_random.pth");
        var request = SmallFashionMnistJob(checkpoint) with { Model = ModelZoo.ResNet18Cifar };

        var error = await Assert.ThrowsAsync<PipelineInputException>(() => new OptimizationPipeline().RunStageAsync(
            PipelineStage.EvaluateFp32, request, workDirectory, new SynchronousProgress(_ => { }), CancellationToken.None));

        Assert.Contains("resnet18-cifar", error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public async Task A_cancelled_stage_stops_with_operation_cancelled()
    {
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress(p =>
        {
            if (p.Message.Contains("batch 2/"))
            {
                cancellation.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new OptimizationPipeline().RunStageAsync(
            PipelineStage.Train, SmallFashionMnistJob(), workDirectory, progress, cancellation.Token));
        Assert.False(File.Exists(Path.Combine(workDirectory, JobWorkspace.TrainedCheckpoint)));
    }

    public void Dispose() => Directory.Delete(workDirectory, recursive: true);

    private sealed class SynchronousProgress(Action<PipelineProgress> report) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => report(value);
    }
}
