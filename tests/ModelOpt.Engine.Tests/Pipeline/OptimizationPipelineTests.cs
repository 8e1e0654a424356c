using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Pipeline.Stages;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Qat;
using ModelOpt.Engine.Quantization.Sensitivity;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Pipeline;

[Collection(TrainedResNet20Collection.Name)]
public class OptimizationPipelineTests(TrainedResNet20 trained) : IDisposable
{
    private const int TestImages = 1_000;

    private readonly string workDirectory = Directory.CreateTempSubdirectory("modelopt-pipeline-").FullName;

    private static OptimizationRequest FashionMnistJob(string? checkpoint) => new(
        ModelZoo.ResNet20,
        DatasetCatalog.FashionMnistName,
        DataPath: null,
        CheckpointPath: checkpoint,
        new TrainingOptions { Epochs = 1, BatchSize = 64, TrainSubset = 256, Seed = 1 },
        new QuantizationOptions(),
        new EvaluationOptions { TestSubset = TestImages, LatencyBatchSize = 32, WarmupRuns = 1, TimedRuns = 3 });

    [Fact]
    public async Task Stages_after_training_run_in_fresh_pipelines_and_int8_keeps_the_trained_model_s_predictions()
    {
        var request = FashionMnistJob(trained.CheckpointPath);
        var outcomes = new List<StageOutcome>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            // A new pipeline per stage: stages share nothing but the work directory, as after a worker restart.
            outcomes.Add(await new OptimizationPipeline().RunStageAsync(stage, request, workDirectory, Ignore(), CancellationToken.None));
        }

        Assert.Equal([PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Compile], outcomes.Select(o => o.Stage));
        var fp32 = Assert.Single(outcomes[0].Results);
        var int8 = Assert.Single(outcomes[2].Results);
        Assert.Equal(TestImages, fp32.ImagesScored);
        Assert.True(Math.Abs(fp32.Accuracy!.Value - int8.Accuracy!.Value) < 0.01, $"FP32 {fp32.Accuracy:P2} vs int8 {int8.Accuracy:P2}");
        Assert.True(int8.SizeBytes < 0.35 * fp32.SizeBytes, $"int8 {int8.SizeBytes} B vs FP32 {fp32.SizeBytes} B");

        var selected = Assert.Single(outcomes[3].Results, m => m.Selected);
        Assert.True(CandidateSelection.KeepsAccuracy(selected.Accuracy!.Value, int8.Accuracy!.Value), $"{selected.Backend} {selected.Accuracy:P2} vs int8 {int8.Accuracy:P2}");
        Assert.All(outcomes.SelectMany(o => o.Artifacts), a => Assert.True(File.Exists(a.Path), a.Path));
        Assert.Contains(outcomes[3].Artifacts, a => a.Name == JobWorkspace.Int8Onnx);

        // The downloadable int8 checkpoint, reloaded on its own, reproduces the recorded accuracy and agrees with FP32.
        using var reloaded = TorchScriptInt8Model.Load(Path.Combine(workDirectory, JobWorkspace.Int8TorchScript));
        Assert.Equal(int8.Accuracy, AccuracyEvaluator.Measure(reloaded.Run, trained.Data.Test, TestImages).Accuracy);
        // The briefly trained fixture has many near-tied logits, and float rounding alone moves its weights: with the
        // initial weights scaled by 1 +- 1e-6 the agreement spanned 97.7-99.6 % for either layout (seed 0: NCHW 99.5 %,
        // channels-last 98.2 %) on the 2-core EPYC.
        var agreement = Top1Agreement(reloaded.Run);
        Assert.True(agreement >= 0.96, $"int8 and FP32 agree on top-1 for {agreement:P2} of the test images");
    }

    [Fact]
    public async Task One_pipeline_runs_every_stage_from_memory_and_compile_takes_the_converted_form_s_figures_as_they_were()
    {
        var request = FashionMnistJob(trained.CheckpointPath);
        var pipeline = new OptimizationPipeline();
        var outcomes = new List<StageOutcome>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            outcomes.Add(await pipeline.RunStageAsync(stage, request, workDirectory, Ignore(), CancellationToken.None));
        }

        var converted = Assert.Single(outcomes[2].Results);
        var compile = outcomes[3].Results;
        Assert.Equal(converted.Backend, compile[0].Backend);
        Assert.Equal(converted.Accuracy, compile[0].Accuracy);
        Assert.Equal(converted.ImagesScored, compile[0].ImagesScored);
        Assert.Single(compile, m => m.Selected);
        var fp32Baseline = Assert.Single(compile, m => m.Backend == CompileStage.OnnxRuntimeFp32Backend);
        Assert.False(fp32Baseline.Selected);
        Assert.Single(compile, m => m.Backend == CompileStage.OneDnnFusedBackend);
        Assert.All(compile.Where(m => m.Selected && m != compile[0]), m => Assert.StartsWith("selected: faster than the converted form", m.Note));
    }

    [Fact]
    public async Task A_calibration_sample_that_misses_classes_is_warned_about_in_the_converted_row_s_note()
    {
        // The first 8 training images cannot cover Fashion-MNIST's 10 classes.
        var request = FashionMnistJob(trained.CheckpointPath) with
        {
            Quantization = new QuantizationOptions { CalibrationImages = 8, CalibrationBatchSize = 8, CalibrationSampling = CalibrationSampling.First },
            Evaluation = new EvaluationOptions { TestSubset = 64, LatencyBatchSize = 8, WarmupRuns = 0, TimedRuns = 1 },
        };
        var pipeline = new OptimizationPipeline();
        var messages = new List<string>();
        var progress = new SynchronousProgress<PipelineProgress>(p => messages.Add(p.Message));
        var calibrate = await pipeline.RunStageAsync(PipelineStage.Calibrate, request, workDirectory, progress, CancellationToken.None);
        var convert = await pipeline.RunStageAsync(PipelineStage.Convert, request, workDirectory, progress, CancellationToken.None);

        // calibrationSpreadSeeds not set: no extra calibration ran, none is reported.
        Assert.Contains(messages, m => m.StartsWith("calibrated on ", StringComparison.Ordinal));
        Assert.DoesNotContain(messages, m => m.Contains("calibration spread", StringComparison.Ordinal));
        var sample = calibrate.Calibration!;
        using var firstEight = trained.Data.Train.Take(8);
        var covered = firstEight.Labels.data<long>().ToArray().Distinct().Count();
        Assert.Equal((10, covered), (sample.Classes, sample.ClassesCovered));
        Assert.Contains($"calibration sample (first, 8 images) covers only {covered} of the 10 classes", Assert.Single(convert.Results).Note);
        // The manifest, the result a user downloads, says how much of the data the sample covered.
        var manifest = Int8Manifest.FromJson(await File.ReadAllTextAsync(Path.Combine(workDirectory, JobWorkspace.Int8Manifest)));
        Assert.Equal((10, covered), (manifest.Calibration!.Classes, manifest.Calibration.ClassesCovered));
        // And how much another sample moved top-1 on the benchmark models, since the job does not measure it for its own.
        var spread = Assert.IsType<CalibrationSpread>(manifest.Calibration.Spread);
        Assert.Contains("not measured for this model", spread.Note);
        Assert.Contains(spread.Benchmarks, b => (b.Model, b.Images, b.Seeds) == (ModelZoo.MobileNetV2Cifar, 256, 5));
    }

    [Fact]
    public async Task Calibration_spread_seeds_rebuild_the_int8_model_per_seed_and_the_manifest_records_the_values_and_their_spread()
    {
        var request = FashionMnistJob(trained.CheckpointPath) with
        {
            Quantization = new QuantizationOptions { CalibrationImages = 16, CalibrationBatchSize = 16, CalibrationSeed = 4, CalibrationSpreadSeeds = 3 },
            Evaluation = new EvaluationOptions { TestSubset = 64, LatencyBatchSize = 8, WarmupRuns = 0, TimedRuns = 1 },
        };
        var pipeline = new OptimizationPipeline();
        var messages = new List<string>();
        var progress = new SynchronousProgress<PipelineProgress>(p => messages.Add(p.Message));
        await pipeline.RunStageAsync(PipelineStage.Calibrate, request, workDirectory, progress, CancellationToken.None);
        var convert = await pipeline.RunStageAsync(PipelineStage.Convert, request, workDirectory, progress, CancellationToken.None);

        var manifest = Int8Manifest.FromJson(await File.ReadAllTextAsync(Path.Combine(workDirectory, JobWorkspace.Int8Manifest)));
        var measured = Assert.IsType<MeasuredCalibrationSpread>(manifest.Calibration!.Spread!.Measured);
        Assert.Empty(manifest.Calibration.Spread.Benchmarks);
        Assert.Equal([4, 5, 6], measured.Values.Select(v => v.Seed));
        Assert.Equal((MeasuredCalibrationSpread.Top1, 64), (measured.Metric, measured.Images));
        var values = measured.Values.Select(v => v.Value).ToList();
        Assert.Equal(values.Max() - values.Min(), measured.Spread, 6);
        // No split: the job's own sample is scored on the converted row's images, so its value is the delivered model's top-1.
        var converted = Assert.Single(convert.Results);
        Assert.Equal(100 * converted.Accuracy!.Value, values[0], 6);
        Assert.Contains(measured.Describe(), converted.Note);
        Assert.StartsWith("calibration spread: ", measured.Describe());
        Assert.Contains("over 3 seeds on the first 64 test images", measured.Describe());
        // Each extra seed calibrated and was scored, with progress.
        Assert.Contains(messages, m => m.StartsWith("calibration spread: seed 5 (1/2), calibrated on 16 of 16 images", StringComparison.Ordinal));
        Assert.Contains(messages, m => m.StartsWith("calibration spread: seed 6 (2/2), scoring", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Calibrate_persists_only_the_observers_qparams_and_convert_builds_from_them_the_model_one_PTQ_call_builds()
    {
        var request = FashionMnistJob(trained.CheckpointPath) with
        {
            Quantization = new QuantizationOptions { CalibrationImages = 128 },
            Evaluation = new EvaluationOptions { TestSubset = 64, LatencyBatchSize = 8, WarmupRuns = 0, TimedRuns = 1 },
            Compile = new CompileOptions { Enabled = false },
        };
        // A new pipeline per stage, as after a worker restart: convert reads only what calibrate wrote.
        await new OptimizationPipeline().RunStageAsync(PipelineStage.EvaluateFp32, request, workDirectory, Ignore(), CancellationToken.None);
        var calibrate = await new OptimizationPipeline().RunStageAsync(PipelineStage.Calibrate, request, workDirectory, Ignore(), CancellationToken.None);

        Assert.Contains(calibrate.Artifacts, a => a.Name == JobWorkspace.CalibratedActivations);
        Assert.False(File.Exists(Path.Combine(workDirectory, JobWorkspace.Int8SafeTensors)), "calibrate converted: it left an int8 model");
        Assert.Null(calibrate.Layers);
        var calibrated = CalibratedActivations.FromJson(await File.ReadAllTextAsync(Path.Combine(workDirectory, JobWorkspace.CalibratedActivations)));
        Assert.Equal((128L, ActivationObserverNames.Histogram), (calibrated.Images, calibrated.Observer));

        var convert = await new OptimizationPipeline().RunStageAsync(PipelineStage.Convert, request, workDirectory, Ignore(), CancellationToken.None);

        Assert.NotEmpty(convert.Layers!);
        var (delivered, _) = Int8SafeTensorsCheckpoint.Load(Path.Combine(workDirectory, JobWorkspace.Int8SafeTensors));
        using (delivered)
        {
            // prepare -> calibrate -> convert_pt2e in one go on the same sample gives the same qparams and int8 weights.
            var sample = CalibrateStage.RecordedSample(new JobWorkspace(workDirectory))!;
            using var images = trained.Data.Train.Subset(sample.Indices);
            using var captured = GraphBuilder.Capture(trained.Model, [1, 1, 32, 32]);
            using var prepared = QuantizePt2e.Prepare(captured, QConfigFactory.FromOptions(request.Quantization));
            QuantizePt2e.Calibrate(prepared, images.Batches(128).Select(b => b.Images));
            using var direct = QuantizePt2e.Convert(prepared);
            Assert.Equal(direct.Activations.OrderBy(a => a.Key.Id), delivered.Activations.OrderBy(a => a.Key.Id));
            Assert.All(direct.Weights, w => Assert.True(Same(w.Value.IntWeight, delivered.Weights[w.Key].IntWeight), w.Key));
        }
    }

    /// <summary>The trained checkpoint's job with one epoch of QAT on 256 images at <paramref name="learningRate"/>, no compile.</summary>
    private OptimizationRequest QatJob(double learningRate) => FashionMnistJob(trained.CheckpointPath) with
    {
        Evaluation = new EvaluationOptions { TestSubset = 200, LatencyBatchSize = 8, WarmupRuns = 0, TimedRuns = 1 },
        Compile = new CompileOptions { Enabled = false },
        Qat = new QatOptions { Enabled = true, Epochs = 1, TrainSubset = 256, BatchSize = 64, LearningRate = learningRate },
    };

    [Fact]
    public async Task Qat_fine_tunes_from_the_calibrated_state_and_convert_quantizes_the_weights_it_trained()
    {
        // A rate at which 4 steps do not lower the split (the default 0.001 lowered it by 0.1 pt here: the PTQ weights
        // would be delivered, the next test's case).
        var request = QatJob(learningRate: 0.0001);
        Assert.Equal([PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Qat, PipelineStage.Convert], OptimizationPipeline.StagesFor(request));
        // One pipeline: its memory keeps the data and FP32 model between stages (fresh pipelines: the test above).
        var pipeline = new OptimizationPipeline();
        var outcomes = new Dictionary<PipelineStage, StageOutcome>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            outcomes[stage] = await pipeline.RunStageAsync(stage, request, workDirectory, Ignore(), CancellationToken.None);
        }

        Assert.Contains(outcomes[PipelineStage.Qat].Artifacts, a => a.Name == JobWorkspace.Qat);
        Assert.Contains(outcomes[PipelineStage.Qat].Artifacts, a => a.Name == JobWorkspace.QatWeights);
        var outcome = QatOutcome.FromJson(await File.ReadAllTextAsync(Path.Combine(workDirectory, JobWorkspace.Qat)));
        Assert.Equal((1, 256, QuantizationOptions.DefaultValidationImages, true), (outcome.EpochLosses.Count, outcome.TrainingImages, outcome.ValidationImages, outcome.FineTuned));
        Assert.InRange(outcome.AccuracyAfter, outcome.Fp32Accuracy - 0.05, 1.0);
        Assert.True(outcome.DeliversFineTunedWeights, $"fine-tuned {outcome.AccuracyAfter:P2} vs PTQ {outcome.AccuracyBefore:P2}");
        Assert.Contains(outcome.Describe(), Assert.Single(outcomes[PipelineStage.Convert].Results).Note);
        // The split QAT holds out judges QAT only: without sensitivityImages, a budget or `auto`, Convert's report is SQNR
        // and MSE, as without QAT, not a run of the split per layer.
        var report = Assert.IsAssignableFrom<IReadOnlyList<LayerSensitivity>>(outcomes[PipelineStage.Convert].Layers);
        Assert.NotEmpty(report);
        Assert.All(report, l => Assert.Null(l.AccuracyGainWhenFloat));

        // The delivered int8 weights are the fine-tuned float weights quantized, not the calibrated model's.
        var trainedWeights = Int8Build.TrainedWeights(new JobWorkspace(workDirectory))!;
        var (delivered, _) = Int8SafeTensorsCheckpoint.Load(Path.Combine(workDirectory, JobWorkspace.Int8SafeTensors));
        using (delivered)
        {
            var qconfig = QConfigFactory.FromOptions(request.Quantization);
            Assert.Equal(delivered.Weights.Keys.Order(), trainedWeights.Keys.Order());
            foreach (var (layer, (weight, bias)) in trainedWeights)
            {
                var expected = QuantizePt2e.QuantizeWeight(qconfig, weight, bias);
                Assert.True(Same(expected.IntWeight, delivered.Weights[layer].IntWeight), layer);
            }
            using var captured = GraphBuilder.Capture(trained.Model, [1, 1, 32, 32]);
            var folded = Int8Build.FoldedFloatWeights(captured);
            Assert.Contains(folded, f => !Same(f.Value.Weight, trainedWeights[f.Key].Weight));
            Int8Build.Dispose(folded);
        }
        Int8Build.Dispose(trainedWeights);
    }

    [Fact]
    public async Task Qat_weights_that_score_below_PTQ_on_the_validation_split_are_not_delivered()
    {
        // A rate far above a fine-tuning one: one epoch on 256 images moves the weights away from the FP32 model's.
        var request = QatJob(learningRate: 0.3);
        var pipeline = new OptimizationPipeline();
        var outcomes = new Dictionary<PipelineStage, StageOutcome>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            outcomes[stage] = await pipeline.RunStageAsync(stage, request, workDirectory, Ignore(), CancellationToken.None);
        }

        var outcome = QatOutcome.FromJson(await File.ReadAllTextAsync(Path.Combine(workDirectory, JobWorkspace.Qat)));
        Assert.True(outcome.AccuracyAfter < outcome.AccuracyBefore, $"fine-tuned {outcome.AccuracyAfter:P2} vs PTQ {outcome.AccuracyBefore:P2}");
        Assert.False(outcome.DeliversFineTunedWeights);
        Assert.DoesNotContain(outcomes[PipelineStage.Qat].Artifacts, a => a.Name == JobWorkspace.QatWeights);
        Assert.False(File.Exists(Path.Combine(workDirectory, JobWorkspace.QatWeights)));
        Assert.Contains("below PTQ, so the PTQ weights are delivered", Assert.Single(outcomes[PipelineStage.Convert].Results).Note);

        // The delivered int8 weights are the FP32 model's folded weights quantized, as without QAT.
        var (delivered, _) = Int8SafeTensorsCheckpoint.Load(Path.Combine(workDirectory, JobWorkspace.Int8SafeTensors));
        using (delivered)
        {
            var qconfig = QConfigFactory.FromOptions(request.Quantization);
            using var captured = GraphBuilder.Capture(trained.Model, [1, 1, 32, 32]);
            var folded = Int8Build.FoldedFloatWeights(captured);
            Assert.Equal(delivered.Weights.Keys.Order(), folded.Keys.Order());
            foreach (var (layer, (weight, bias)) in folded)
            {
                Assert.True(Same(QuantizePt2e.QuantizeWeight(qconfig, weight, bias).IntWeight, delivered.Weights[layer].IntWeight), layer);
            }
            Int8Build.Dispose(folded);
        }
    }

    [Fact]
    public async Task Train_stage_writes_a_loadable_checkpoint_and_reports_loss()
    {
        var reports = new List<PipelineProgress>();
        var request = FashionMnistJob(checkpoint: null);

        var outcome = await new OptimizationPipeline().RunStageAsync(
            PipelineStage.Train, request, workDirectory, new SynchronousProgress<PipelineProgress>(reports.Add), CancellationToken.None);

        var artifact = Assert.Single(outcome.Artifacts);
        Assert.Equal(JobWorkspace.TrainedCheckpoint, artifact.Name);
        using var model = ModelOpt.Engine.Checkpoints.CheckpointLoader.Load(artifact.Path, ModelZoo.ResNet20);
        Assert.Contains(reports, r => r.Stage == PipelineStage.Train && r.Message.Contains("loss"));
    }

    [Fact]
    public async Task A_mismatched_checkpoint_is_an_input_error_naming_the_problem()
    {
        var request = FashionMnistJob(trained.CheckpointPath) with { Model = ModelZoo.ResNet18Cifar };

        var error = await Assert.ThrowsAsync<PipelineInputException>(() => new OptimizationPipeline().RunStageAsync(
            PipelineStage.EvaluateFp32, request, workDirectory, Ignore(), CancellationToken.None));

        Assert.Contains("resnet18-cifar", error.Message);
        Assert.Contains("missing", error.Message);
    }

    [Fact]
    public async Task A_cancelled_stage_stops_and_leaves_no_checkpoint()
    {
        using var cancellation = new CancellationTokenSource();
        var progress = new SynchronousProgress<PipelineProgress>(p =>
        {
            if (p.Message.Contains("batch 2/"))
            {
                cancellation.Cancel();
            }
        });

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => new OptimizationPipeline().RunStageAsync(
            PipelineStage.Train, FashionMnistJob(checkpoint: null), workDirectory, progress, cancellation.Token));
        Assert.False(File.Exists(Path.Combine(workDirectory, JobWorkspace.TrainedCheckpoint)));
    }

    public void Dispose() => Directory.Delete(workDirectory, recursive: true);

    private static SynchronousProgress<PipelineProgress> Ignore() => new(_ => { });

    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();

    private double Top1Agreement(Func<Tensor, Tensor> int8)
    {
        using var test = trained.Data.Test.Take(TestImages);
        long agree = 0;
        using var _ = no_grad();
        foreach (var batch in test.Batches(250))
        {
            using (batch)
            using (var fp32 = trained.Model.call(batch.Images).argmax(1))
            using (var quantized = int8(batch.Images).argmax(1))
            {
                agree += fp32.eq(quantized).sum().item<long>();
            }
        }
        return (double)agree / TestImages;
    }
}
