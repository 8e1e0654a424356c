using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.AccuracyControl;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Quantization;

/// <summary>
/// Issue 23 on the trained resnet20: a classifier run both ways (classification against labels, generic against FP32),
/// and the fidelity budget on the damaged layer (<see cref="DamagedResNet20"/>).
/// </summary>
[Collection(TrainedResNet20Collection.Name)]
public class GenericClassifierTests(TrainedResNet20 trained, ITestOutputHelper output) : IDisposable
{
    private const int TestImages = 256;

    private readonly string workDirectory = Directory.CreateTempSubdirectory("modelopt-generic-").FullName;

    [Fact]
    public async Task A_classifier_run_as_generic_reports_the_agreement_its_raw_predictions_give()
    {
        var classification = await Run("classification", trained.CheckpointPath, new QuantizationOptions { CalibrationImages = 128 }, task: null);
        // The generic run also measures its calibration spread (a second seed): it must leave the delivered model as it was.
        var generic = await Run("generic", trained.CheckpointPath, new QuantizationOptions { CalibrationImages = 128, CalibrationSpreadSeeds = 2 }, JobTask.Generic);

        // The same calibration sample and int8 model either way: only the measure differs.
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(workDirectory, "classification", JobWorkspace.Int8SafeTensors)),
            File.ReadAllBytes(Path.Combine(workDirectory, "generic", JobWorkspace.Int8SafeTensors)));
        var (fp32Top1, int8Top1) = (classification[PipelineStage.EvaluateFp32][0].Accuracy!.Value, classification[PipelineStage.Convert][0].Accuracy!.Value);
        Assert.Null(generic[PipelineStage.EvaluateFp32][0].Accuracy);
        var fidelity = Assert.Single(generic[PipelineStage.Convert][0].Fidelity!);
        Assert.Equal(1, fidelity.ClassAxis);
        Assert.Equal(TestImages, fidelity.Images);
        // A generic job's spread is its worst output's SQNR on the evaluation images; its own seed's is the converted row's.
        var spread = Int8Manifest.FromJson(File.ReadAllText(Path.Combine(workDirectory, "generic", JobWorkspace.Int8Manifest))).Calibration!.Spread!.Measured!;
        Assert.Equal((MeasuredCalibrationSpread.SqnrDb, TestImages), (spread.Metric, spread.Images));
        Assert.Equal([0, 1], spread.Values.Select(v => v.Seed));
        Assert.Equal(fidelity.SqnrDb, spread.Values[0].Value, 6);
        Assert.Contains(spread.Describe(), generic[PipelineStage.Convert][0].Note);

        // Raw predictions of both forms as the jobs ran them: the FP32 model the job opens, the int8 file it delivered.
        using var fp32 = Fp32Model.Open(ModelZoo.ResNet20, [FashionMnist.Channels, 32, 32], FashionMnist.Classes, trained.CheckpointPath);
        using var int8 = TorchScriptInt8Model.Load(Path.Combine(workDirectory, "classification", JobWorkspace.Int8TorchScript));
        using var test = trained.Data.Test.Take(TestImages);
        using var batch = test.Batches(TestImages).Single();
        using var fp32Predictions = fp32.Forward(batch.Images).argmax(1);
        using var int8Predictions = int8.Run(batch.Images).argmax(1);
        var fp32Correct = fp32Predictions.eq(batch.Labels).sum().item<long>();
        var int8Correct = int8Predictions.eq(batch.Labels).sum().item<long>();
        var agreeing = fp32Predictions.eq(int8Predictions).sum().item<long>();
        output.WriteLine($"FP32 top-1 {fp32Top1:P2}, int8 top-1 {int8Top1:P2}; agreement {fidelity.ArgmaxAgreement:P2} ({agreeing}/{TestImages}), SQNR {fidelity.SqnrDb:F2} dB");

        Assert.Equal(fp32Top1, (double)fp32Correct / TestImages, 12);
        Assert.Equal(int8Top1, (double)int8Correct / TestImages, 12);
        Assert.Equal((double)agreeing / TestImages, fidelity.ArgmaxAgreement!.Value, 12);
        // What the two accuracies imply on their own: the forms disagree on at least the images their top-1 differs by.
        Assert.True(1 - fidelity.ArgmaxAgreement.Value >= Math.Abs(fp32Top1 - int8Top1) - 1e-12);
    }

    [Fact]
    public async Task A_minimum_SQNR_keeps_exactly_the_damaged_layer_in_FP32()
    {
        const double minSqnrDb = 20;
        var checkpoint = DamagedResNet20.Checkpoint(trained, workDirectory);
        var results = await Run("budget", checkpoint, new QuantizationOptions { CalibrationImages = 128, SensitivityImages = 200, MinSqnrDb = minSqnrDb }, JobTask.Generic);

        var budget = FidelityBudgetOutcome.FromJson(File.ReadAllText(Path.Combine(workDirectory, "budget", JobWorkspace.FidelityBudget)));
        var delivered = Assert.Single(results[PipelineStage.Convert], m => m.Selected);
        var allInt8 = Assert.Single(results[PipelineStage.Convert], m => !m.Selected);
        output.WriteLine(budget.Describe());
        output.WriteLine($"test: delivered SQNR {delivered.Fidelity![0].SqnrDb:F2} dB, all int8 {allInt8.Fidelity![0].SqnrDb:F2} dB");

        Assert.True(budget.Int8.SqnrDb < minSqnrDb, $"the damage leaves {budget.Int8.SqnrDb:F2} dB: the target has nothing to do");
        Assert.True(budget.WithinBudget);
        Assert.Equal([DamagedResNet20.Layer], budget.FloatLayers);
        Assert.True(budget.Delivered.SqnrDb >= minSqnrDb);
        Assert.True(delivered.Fidelity[0].SqnrDb > allInt8.Fidelity[0].SqnrDb);
        Assert.Contains($"met with 1 layer(s) ({DamagedResNet20.Layer})", delivered.Note);
    }

    private async Task<Dictionary<PipelineStage, IReadOnlyList<StageMetrics>>> Run(string name, string checkpoint, QuantizationOptions quantization, JobTask? task)
    {
        var request = new OptimizationRequest(
            ModelZoo.ResNet20, DatasetCatalog.FashionMnistName, null, checkpoint, new TrainingOptions(), quantization,
            new EvaluationOptions { TestSubset = TestImages, LatencyBatchSize = 16, WarmupRuns = 1, TimedRuns = 2 }, Compile: new CompileOptions { Enabled = false }, Output: new OutputOptions { Task = task });
        var results = new Dictionary<PipelineStage, IReadOnlyList<StageMetrics>>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            var outcome = await new OptimizationPipeline().RunStageAsync(
                stage, request, Path.Combine(workDirectory, name), new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None);
            results[stage] = outcome.Results;
        }
        return results;
    }

    public void Dispose() => Directory.Delete(workDirectory, recursive: true);
}
