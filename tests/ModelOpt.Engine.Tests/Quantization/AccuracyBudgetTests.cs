using System.Globalization;
using System.Text.Json;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Export.Onnx;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Pipeline.Stages;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.AccuracyControl;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Qat;
using ModelOpt.Engine.Quantization.Sensitivity;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Tests.Quantization;

/// <summary>The budget on a trained resnet20 with one layer made ruinous for per-channel int8 and harmless in FP32 (<see cref="DamagedResNet20"/>).</summary>
[Collection(TrainedResNet20Collection.Name)]
public class AccuracyBudgetTests(TrainedResNet20 trained, ITestOutputHelper output) : IDisposable
{
    private const string DamagedLayer = DamagedResNet20.Layer;
    private const int ValidationImages = 500;
    private const double Budget = 1.5;
    // The qat.auto tests check what runs, not how well: a smaller split keeps the per-layer report's passes short.
    private const int QatValidationImages = 200;

    private readonly string workDirectory = Directory.CreateTempSubdirectory("modelopt-budget-").FullName;

    [Fact]
    public async Task A_budget_keeps_the_damaged_layer_in_FP32_and_the_delivered_model_lands_within_it()
    {
        var request = Job(DamagedCheckpoint(), Budget);
        var outcomes = new Dictionary<PipelineStage, StageOutcome>();
        foreach (var stage in new[] { PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert })
        {
            outcomes[stage] = await new OptimizationPipeline().RunStageAsync(stage, request, workDirectory, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None);
        }

        var budget = AccuracyBudgetOutcome.FromJson(File.ReadAllText(Path.Combine(workDirectory, JobWorkspace.AccuracyBudget)));
        var fp32 = Assert.Single(outcomes[PipelineStage.EvaluateFp32].Results);
        var delivered = Assert.Single(outcomes[PipelineStage.Convert].Results, m => m.Selected);
        var allInt8 = Assert.Single(outcomes[PipelineStage.Convert].Results, m => !m.Selected);
        output.WriteLine($"validation: FP32 {budget.Fp32Accuracy:P2}, int8 drop {budget.Int8Drop:F2} pt, kept [{string.Join(", ", budget.FloatLayers)}], drop {budget.Drop:F2} pt");
        output.WriteLine($"test: FP32 {fp32.Accuracy:P2}; delivered {delivered.Accuracy:P2} {delivered.LatencyMeanMs:F2} ms; all int8 {allInt8.Accuracy:P2} {allInt8.LatencyMeanMs:F2} ms");
        output.WriteLine(delivered.Note);

        Assert.True(budget.Int8Drop > Budget, $"the damage costs only {budget.Int8Drop:F2} pt: the budget has nothing to do");
        Assert.True(budget.WithinBudget);
        Assert.Equal([DamagedLayer], budget.FloatLayers);
        Assert.True(100 * (fp32.Accuracy - delivered.Accuracy) <= Budget, $"delivered {delivered.Accuracy:P2} vs FP32 {fp32.Accuracy:P2}");
        Assert.True(delivered.Accuracy > allInt8.Accuracy, $"delivered {delivered.Accuracy:P2} vs all int8 {allInt8.Accuracy:P2}");
        Assert.Contains("met with 1 layer(s) (layer2.0.conv2)", delivered.Note);
        // Searched on the converted model, by the stage that builds it.
        Assert.Contains(outcomes[PipelineStage.Convert].Artifacts, a => a.Name == JobWorkspace.AccuracyBudget);
        // Decided on training images, never the test images it is scored on; the note gives the drop on both.
        var split = JsonSerializer.Deserialize<ValidationSplit>(File.ReadAllText(Path.Combine(workDirectory, JobWorkspace.ValidationSplit)), CalibrateStage.SampleJson)!;
        Assert.Equal(ValidationImages, split.Count);
        Assert.False(split.OverlapsCalibration);
        Assert.Contains(outcomes[PipelineStage.Calibrate].Artifacts, a => a.Name == JobWorkspace.ValidationSplit);
        Assert.Contains($"on {ValidationImages} validation images of the training split", delivered.Note);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture,
            $"drop on the {fp32.ImagesScored} test images (scored only): {100 * (fp32.Accuracy - delivered.Accuracy):F2} pt"), delivered.Note);

        // The delivered files are the mixed model: TorchScript runs the layer as a float op, the QDQ export keeps its float weight.
        using var torchScript = TorchScriptInt8Model.Load(Path.Combine(workDirectory, JobWorkspace.Int8TorchScript));
        Assert.Contains("f_layer2_0_conv2 = torch.conv2d(", torchScript.Source);
        var (mixed, _) = Int8SafeTensorsCheckpoint.Load(Path.Combine(workDirectory, JobWorkspace.Int8SafeTensors));
        using (mixed)
        {
            Assert.Equal([DamagedLayer], mixed.KeptFloatLayers());
            var onnx = OnnxExporter.ExportQdq(mixed);
            Assert.Equal((int)DataType.Float, onnx.Graph.Initializer.Single(t => t.Name == $"{DamagedLayer}.weight").DataType);
            Assert.DoesNotContain(onnx.Graph.Initializer, t => t.Name == $"{DamagedLayer}.weight_quantized");
        }
    }

    [Fact]
    public async Task Qat_auto_fine_tunes_when_the_budget_is_missed_all_int8_and_convert_searches_the_budget_on_the_fine_tuned_model()
    {
        var request = Job(DamagedCheckpoint(), Budget, QatValidationImages) with { Qat = new QatOptions { Auto = true, Epochs = 1, TrainSubset = 128 } };
        Assert.Equal([PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Qat, PipelineStage.Convert, PipelineStage.Compile],
            OptimizationPipeline.StagesFor(request));
        var outcomes = new Dictionary<PipelineStage, StageOutcome>();
        foreach (var stage in new[] { PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Qat, PipelineStage.Convert })
        {
            outcomes[stage] = await new OptimizationPipeline().RunStageAsync(stage, request, workDirectory, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None);
        }

        var qat = QatOutcome.FromJson(File.ReadAllText(Path.Combine(workDirectory, JobWorkspace.Qat)));
        var budget = AccuracyBudgetOutcome.FromJson(File.ReadAllText(Path.Combine(workDirectory, JobWorkspace.AccuracyBudget)));
        var delivered = Assert.Single(outcomes[PipelineStage.Convert].Results, m => m.Selected);
        output.WriteLine(delivered.Note);
        // The damaged layer misses the budget all-int8: qat.auto fine-tunes.
        Assert.Equal((true, true), (qat.Automatic, qat.FineTuned));
        Assert.True(100 * (qat.Fp32Accuracy - qat.AccuracyBefore) > Budget);
        // The search starts from the model QAT delivered: its all-int8 accuracy on the same split is QAT's result (the PTQ
        // model's when fine-tuning scored below it: 2 steps on 128 images do not repair the damaged layer).
        var deliveredByQat = qat.DeliversFineTunedWeights ? qat.AccuracyAfter : qat.AccuracyBefore;
        Assert.Equal((qat.Fp32Accuracy, deliveredByQat), (budget.Fp32Accuracy, budget.Int8Accuracy));
        Assert.Equal(qat.DeliversFineTunedWeights, File.Exists(Path.Combine(workDirectory, JobWorkspace.QatWeights)));
        Assert.Contains("QAT (qat.auto: every layer int8 after PTQ dropped", delivered.Note);
        // A budget asks for the report's top-1 gains (its search walks their ranking), QAT or not.
        Assert.All(Assert.IsAssignableFrom<IReadOnlyList<LayerSensitivity>>(outcomes[PipelineStage.Convert].Layers), l => Assert.NotNull(l.AccuracyGainWhenFloat));
    }

    [Fact]
    public async Task Qat_auto_does_not_fine_tune_when_PTQ_meets_the_budget_all_int8()
    {
        var request = Job(trained.CheckpointPath, 5.0, QatValidationImages) with { Qat = new QatOptions { Auto = true }, Compile = new CompileOptions { Enabled = false } };
        var outcomes = new Dictionary<PipelineStage, StageOutcome>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            outcomes[stage] = await new OptimizationPipeline().RunStageAsync(stage, request, workDirectory, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None);
        }

        var qat = QatOutcome.FromJson(File.ReadAllText(Path.Combine(workDirectory, JobWorkspace.Qat)));
        Assert.Equal((true, false, 0), (qat.Automatic, qat.FineTuned, qat.TrainingImages));
        Assert.DoesNotContain(outcomes[PipelineStage.Qat].Artifacts, a => a.Name == JobWorkspace.QatWeights);
        Assert.False(File.Exists(Path.Combine(workDirectory, JobWorkspace.QatWeights)));
        Assert.Contains("QAT not needed (qat.auto)", Assert.Single(outcomes[PipelineStage.Convert].Results).Note);
        Assert.False(QatOptions.RunsStage(new QatOptions { Auto = true }, maxAccuracyDrop: null));
    }

    [Fact]
    public void An_unreachable_budget_returns_the_best_model_tried_and_says_so()
    {
        using var model = CheckpointLoader.Load(DamagedCheckpoint(), ModelZoo.ResNet20);
        model.eval();
        using var captured = GraphBuilder.Capture(model, [1, 1, 32, 32]);
        using var calibration = trained.Data.Train.Take(128);
        using var quantized = Quantize(captured, calibration);
        using var validation = trained.Data.Test.Take(ValidationImages);
        var report = LayerSensitivityAnalysis.Analyze(quantized, calibration.Batches(128).Select(b => b.Images), null, 128);
        // A ranking that names the damaged layer last: the search never leaves it in FP32.
        var ranking = report.Where(l => l.Layer != DamagedLayer).Take(2).Append(report.Single(l => l.Layer == DamagedLayer)).ToList();

        var fp32 = AccuracyEvaluator.Measure(x => GraphInterpreter.Run(quantized.Graph, x), validation).Accuracy;
        var tried = new List<IReadOnlyList<string>>();
        double Simulated(IReadOnlyList<string> floatLayers)
        {
            tried.Add(floatLayers);
            return LayerSensitivityAnalysis.Accuracy(quantized, floatLayers.ToHashSet(), validation, 128);
        }

        var budget = AccuracyBudgetSearch.Search(fp32, ranking, Simulated, maxAccuracyDrop: 0.5, validation.Count);

        output.WriteLine(budget.Describe());
        Assert.False(budget.WithinBudget);
        Assert.DoesNotContain(DamagedLayer, budget.FloatLayers);
        Assert.True(budget.FloatLayers.Count <= 2);
        Assert.True(budget.Accuracy >= budget.Int8Accuracy);
        Assert.Contains("NOT met", budget.Describe());
        // Every prefix of the ranking but the whole, in order: all int8, then one and two layers in FP32.
        Assert.Equal([[], [ranking[0].Layer], [ranking[0].Layer, ranking[1].Layer]], tried);
    }

    private static OptimizationRequest Job(string checkpoint, double maxAccuracyDrop, int validationImages = ValidationImages) => new(
        ModelZoo.ResNet20,
        DatasetCatalog.FashionMnistName,
        DataPath: null,
        CheckpointPath: checkpoint,
        new TrainingOptions(),
        new QuantizationOptions { SensitivityImages = validationImages, MaxAccuracyDrop = maxAccuracyDrop },
        new EvaluationOptions
        {
            TestSubset = validationImages, LatencyBatchSize = 32, WarmupRuns = validationImages == ValidationImages ? 1 : 0,
            TimedRuns = validationImages == ValidationImages ? 5 : 1,
        });

    private static QuantizedGraph Quantize(ModelGraph captured, ImageDataset calibration)
    {
        using var prepared = QuantizePt2e.Prepare(captured, QuantizedModels.Default());
        QuantizePt2e.Calibrate(prepared, calibration.Batches(128).Select(b => b.Images));
        return QuantizePt2e.Convert(prepared);
    }

    private string DamagedCheckpoint() => DamagedResNet20.Checkpoint(trained, workDirectory);

    public void Dispose() => Directory.Delete(workDirectory, recursive: true);
}
