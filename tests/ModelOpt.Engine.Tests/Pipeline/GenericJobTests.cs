using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Pipeline.Stages;
using ModelOpt.Engine.Quantization.AccuracyControl;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Import;
using ModelOpt.Engine.Tests.Onnx;
using ModelOpt.Engine.Tests.Runtime;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Pipeline;

/// <summary>
/// Issue 23: a generic job (no labels read, fidelity to FP32) through every stage on the segmentation-style fixture
/// (N x 1 x H x W sigmoid map), each stage in a fresh pipeline, checked against ONNX Runtime on the same file and the
/// same images, and against SQNR recomputed here from the delivered files.
/// </summary>
[Collection(QuantizedEngineCollection.Name)]
public class GenericJobTests(ITestOutputHelper output)
{
    private const string Segmentation = "segmentation_net_opset13.onnx";
    private const int EvaluationImages = 48;

    // The fixture takes 3 x 32 x 48 images: the synthetic set's 32 x 32 ones resized, as a user's preprocessing would.
    private static readonly ImagePreprocessing Preprocessing = new() { Resize = [32, 48] };

    [Fact]
    public async Task A_segmentation_job_reports_fidelity_that_the_delivered_files_reproduce()
    {
        using var work = new TempDirectory();
        var request = new OptimizationRequest(
            OnnxModelName.Of(Segmentation), DatasetCatalog.SyntheticName, null, ZooOnnxFixtures.PathOf(Segmentation),
            new TrainingOptions(), new QuantizationOptions { CalibrationImages = 32, CalibrationBatchSize = 32 },
            new EvaluationOptions { TestSubset = EvaluationImages, LatencyBatchSize = 8, WarmupRuns = 1, TimedRuns = 2 },
            Preprocessing: Preprocessing,
            // Every compile row scored, so that the QDQ row's reported fidelity can be checked.
            Compile: new CompileOptions { ScoreEveryForm = true });

        var outcomes = new List<StageOutcome>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            outcomes.Add(await new OptimizationPipeline().RunStageAsync(
                stage, request, work.Path, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None));
        }

        // The FP32 row: no accuracy, its outputs recorded; they are ONNX Runtime's on the same images.
        var fp32 = Assert.Single(outcomes[0].Results);
        Assert.Null(fp32.Accuracy);
        Assert.Null(fp32.Fidelity);
        Assert.Equal(EvaluationImages, fp32.ImagesScored);
        using var images = EvaluationImagesOfTheJob();
        using var recorded = RecordedFp32Outputs(work);
        using var onnxRuntime = OnnxRuntimeOutputs.Run(ZooOnnxFixtures.PathOf(Segmentation), images);
        var fp32Error = OnnxFixtures.RelativeError(recorded, Assert.Single(onnxRuntime.Values));
        output.WriteLine($"FP32 outputs vs ONNX Runtime: relative error {fp32Error:E2}");
        Assert.True(fp32Error <= ZooOnnxChecks.Fp32Tolerance, $"relative error {fp32Error:E2}");

        // The converted form, as delivered (model-int8.pt in LibTorch): the SQNR it reports is the file's.
        var converted = Assert.Single(outcomes[2].Results);
        Assert.Null(converted.Accuracy);
        var convertedFidelity = Assert.Single(converted.Fidelity!);
        Assert.Equal("probability_map", convertedFidelity.Output);
        Assert.Null(convertedFidelity.ClassAxis);
        Assert.Null(convertedFidelity.ArgmaxAgreement);
        Assert.Equal(EvaluationImages, convertedFidelity.Images);
        using var torchScript = TorchScriptInt8Model.Load(work.File(JobWorkspace.Int8TorchScript));
        using var libTorchOutputs = torchScript.Run(images);
        var libTorchSqnr = Sqnr(libTorchOutputs, recorded);
        output.WriteLine($"TorchScript int8: reported SQNR {convertedFidelity.SqnrDb:F4} dB, recomputed {libTorchSqnr:F4} dB; cosine {convertedFidelity.CosineSimilarity:F5}");
        Assert.Equal(libTorchSqnr, convertedFidelity.SqnrDb, 3);
        Assert.InRange(convertedFidelity.SqnrDb, 10, 80);

        // The QDQ file (model-int8.onnx) in ONNX Runtime: the compile stage's row for it reports its SQNR.
        var qdq = Assert.Single(outcomes[3].Results, r => r.Backend == CompileStage.OnnxRuntimeQdqBackend);
        Assert.Null(qdq.Accuracy);
        using var qdqOutputs = OnnxRuntimeOutputs.Run(work.File(JobWorkspace.Int8Onnx), images);
        var qdqSqnr = Sqnr(Assert.Single(qdqOutputs.Values), recorded);
        output.WriteLine($"QDQ int8 (ONNX Runtime): reported SQNR {qdq.Fidelity![0].SqnrDb:F4} dB, recomputed {qdqSqnr:F4} dB");
        Assert.Equal(qdqSqnr, Assert.Single(qdq.Fidelity).SqnrDb, 2);
        Assert.Single(outcomes[3].Results, r => r.Selected);
        Assert.All(outcomes[3].Results, r => Assert.NotNull(r.Fidelity));
        // A generic model records no classes: its int8 checkpoint is rebuilt for the output it was built for.
        var manifest = Int8Manifest.FromJson(File.ReadAllText(work.File(JobWorkspace.Int8Manifest)));
        Assert.Equal(0, manifest.NumClasses);
        Assert.DoesNotContain(ConvertStage.AccuracyMetric, manifest.Metrics!.Keys);
    }

    [Fact]
    public async Task A_two_output_job_measures_each_output_and_the_delivered_files_return_both_by_name()
    {
        const string twoOutputs = "two_output_net_opset13.onnx";
        const int images = 16;
        using var work = new TempDirectory();
        // The synthetic set has labels, but a model with several outputs is a generic job unless output.name picks one.
        // auto and the fidelity target decide on the worst output.
        var request = new OptimizationRequest(
            OnnxModelName.Of(twoOutputs), DatasetCatalog.SyntheticName, null, ZooOnnxFixtures.PathOf(twoOutputs),
            new TrainingOptions(), new QuantizationOptions { ActivationObserver = "auto", CalibrationImages = 32, CalibrationBatchSize = 32, MinSqnrDb = 20 },
            new EvaluationOptions { TestSubset = images, LatencyBatchSize = 8, WarmupRuns = 1, TimedRuns = 2 },
            Compile: new CompileOptions { ScoreEveryForm = true });

        var outcomes = new List<StageOutcome>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            outcomes.Add(await new OptimizationPipeline().RunStageAsync(
                stage, request, work.Path, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None));
        }

        var selection = ActivationObserverSelection.FromJson(File.ReadAllText(work.File(JobWorkspace.ObserverSelection)));
        Assert.Equal(ActivationObserverSelection.SqnrDb, selection.Measure);
        var budget = FidelityBudgetOutcome.FromJson(File.ReadAllText(work.File(JobWorkspace.FidelityBudget)));
        output.WriteLine($"{selection.Describe()}; budget: delivered {budget.Delivered.Output} {budget.Delivered.SqnrDb:F2} dB");
        Assert.Equal("worst of logits, box", budget.Delivered.Output);
        Assert.True(budget.WithinBudget);

        // FP32: both outputs recorded (packed (N, 10 + 4)), each equal to ONNX Runtime's on the same images.
        using var splits = SyntheticDataset.Create();
        using var first = splits.Test.Take(images);
        using var batch = first.Batches(images).Single();
        using var recorded = RecordedFp32Outputs(work);
        Assert.Equal([(long)images, 14], recorded.shape);
        using var logits = recorded.narrow(1, 0, 10);
        using var box = recorded.narrow(1, 10, 4);
        using var onnxRuntime = OnnxRuntimeOutputs.Run(ZooOnnxFixtures.PathOf(twoOutputs), batch.Images);
        Assert.Equal(["logits", "box"], onnxRuntime.Names);
        foreach (var (name, fp32, reference) in new[] { ("logits", logits, onnxRuntime.Values[0]), ("box", box, onnxRuntime.Values[1]) })
        {
            var error = OnnxFixtures.RelativeError(fp32, reference);
            output.WriteLine($"FP32 '{name}' vs ONNX Runtime: relative error {error:E2}");
            Assert.True(error <= ZooOnnxChecks.Fp32Tolerance, $"'{name}': relative error {error:E2}");
        }

        // model-int8.pt in LibTorch returns a tuple (logits, box); each output's SQNR is the one the convert row reports.
        var converted = Assert.Single(outcomes[2].Results);
        Assert.Null(converted.Accuracy);
        var convertedFidelity = converted.Fidelity!;
        Assert.Equal(["logits", "box"], convertedFidelity.Select(f => f.Output));
        Assert.Equal(1, convertedFidelity[0].ClassAxis); // (N, C) outputs compare arg-maxes on axis 1
        using var torchScript = TorchScriptInt8Model.Load(work.File(JobWorkspace.Int8TorchScript));
        var libTorch = torchScript.RunAll(batch.Images);
        Assert.Equal(2, libTorch.Count);
        var manifest = Int8Manifest.FromJson(File.ReadAllText(work.File(JobWorkspace.Int8Manifest)));
        Assert.Equal(["logits", "box"], manifest.OutputNames!);
        Assert.Contains("-> Tuple[Tensor, Tensor]:", torchScript.Source);

        // model-int8.onnx in ONNX Runtime has both outputs by name; the compile stage's QDQ row reports each one's SQNR.
        var qdq = Assert.Single(outcomes[3].Results, r => r.Backend == CompileStage.OnnxRuntimeQdqBackend);
        using var qdqOutputs = OnnxRuntimeOutputs.Run(work.File(JobWorkspace.Int8Onnx), batch.Images);
        Assert.Equal(["logits", "box"], qdqOutputs.Names);
        var qdqFidelity = qdq.Fidelity!;
        Assert.Equal(["logits", "box"], qdqFidelity.Select(f => f.Output));
        for (var i = 0; i < 2; i++)
        {
            var fp32 = i == 0 ? logits : box;
            var libTorchSqnr = Sqnr(libTorch[i], fp32);
            var qdqSqnr = Sqnr(qdqOutputs.Values[i], fp32);
            output.WriteLine(
                $"'{convertedFidelity[i].Output}': TorchScript int8 reported {convertedFidelity[i].SqnrDb:F4} dB, recomputed {libTorchSqnr:F4} dB; " +
                $"QDQ reported {qdqFidelity[i].SqnrDb:F4} dB, recomputed {qdqSqnr:F4} dB");
            Assert.Equal(libTorchSqnr, convertedFidelity[i].SqnrDb, 3);
            Assert.Equal(qdqSqnr, qdqFidelity[i].SqnrDb, 2);
            Assert.InRange(convertedFidelity[i].SqnrDb, 5, 80);
        }
        Assert.All(outcomes[3].Results, r => Assert.Equal(2, r.Fidelity!.Count));
        Assert.DoesNotContain(outcomes[3].Results, r => r.Backend == CompileStage.OneDnnFusedBackend); // one output only
        foreach (var tensor in libTorch)
        {
            tensor.Dispose();
        }
    }

    [Fact]
    public async Task A_classification_task_on_a_model_with_two_outputs_asks_for_output_name()
    {
        const string twoOutputs = "two_output_net_opset13.onnx";
        using var work = new TempDirectory();
        var request = new OptimizationRequest(
            OnnxModelName.Of(twoOutputs), DatasetCatalog.SyntheticName, null, ZooOnnxFixtures.PathOf(twoOutputs),
            new TrainingOptions(), new QuantizationOptions(), new EvaluationOptions { TestSubset = 8 }, Output: new OutputOptions { Task = JobTask.Classification });

        var error = await Assert.ThrowsAsync<PipelineInputException>(() => new OptimizationPipeline().RunStageAsync(
            PipelineStage.EvaluateFp32, request, work.Path, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None));

        Assert.Contains("A classification job measures one output, its logits; this model has 2 (logits, box). Name the logits with output.name", error.Message);
    }

    [Fact]
    public async Task A_recognizer_job_compares_arg_maxes_on_the_class_axis_it_names()
    {
        const string recognizer = "recognizer_net_opset13.onnx";
        using var work = new TempDirectory();
        // The recognizer reads 1 x 32 x 64 images: the synthetic set's in grayscale, resized.
        var preprocessing = new ImagePreprocessing { Resize = [32, 64], Color = ColorConversion.Grayscale };
        var request = new OptimizationRequest(
            OnnxModelName.Of(recognizer), DatasetCatalog.SyntheticName, null, ZooOnnxFixtures.PathOf(recognizer),
            new TrainingOptions(), new QuantizationOptions { CalibrationImages = 32, CalibrationBatchSize = 32 },
            new EvaluationOptions { TestSubset = 16, LatencyBatchSize = 8, WarmupRuns = 1, TimedRuns = 2 }, Preprocessing: preprocessing,
            Compile: new CompileOptions { Enabled = false }, Output: new OutputOptions { ClassAxis = -1 });

        var outcomes = new List<StageOutcome>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            outcomes.Add(await new OptimizationPipeline().RunStageAsync(
                stage, request, work.Path, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None));
        }

        var fidelity = Assert.Single(Assert.Single(outcomes[^1].Results).Fidelity!);
        using var recorded = RecordedFp32Outputs(work);
        using var splits = SyntheticDataset.Create();
        using var test = splits.Test.WithPreprocessing(preprocessing);
        using var first = test.Take(16);
        using var batch = first.Batches(16).Single();
        using var torchScript = TorchScriptInt8Model.Load(work.File(JobWorkspace.Int8TorchScript));
        using var int8 = torchScript.Run(batch.Images);
        // Per image and position (16 x 16), whether the arg-max over the 37 classes is FP32's.
        using var agreeing = int8.argmax(-1).eq(recorded.argmax(-1));
        output.WriteLine($"recognizer: agreement {fidelity.ArgmaxAgreement:P2} over {agreeing.numel()} positions, SQNR {fidelity.SqnrDb:F2} dB");

        Assert.Equal([16L, 16, 37], recorded.shape);
        Assert.Equal(-1, fidelity.ClassAxis);
        Assert.Equal(agreeing.sum().item<long>() / (double)agreeing.numel(), fidelity.ArgmaxAgreement!.Value, 12);
    }

    [Fact]
    public async Task The_auto_observer_bias_correction_and_the_per_layer_report_work_without_labels_and_auto_picks_by_SQNR()
    {
        using var work = new TempDirectory();
        var request = new OptimizationRequest(
            OnnxModelName.Of(Segmentation), DatasetCatalog.SyntheticName, null, ZooOnnxFixtures.PathOf(Segmentation),
            new TrainingOptions(),
            new QuantizationOptions { ActivationObserver = "auto", CalibrationImages = 32, CalibrationBatchSize = 32, SensitivityImages = 32, BiasCorrection = true, MinSqnrDb = 20 },
            new EvaluationOptions { TestSubset = 16, LatencyBatchSize = 8, WarmupRuns = 1, TimedRuns = 2 }, Preprocessing: Preprocessing);

        StageOutcome? convert = null;
        foreach (var stage in new[] { PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert })
        {
            convert = await new OptimizationPipeline().RunStageAsync(stage, request, work.Path, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None);
        }

        var selection = ActivationObserverSelection.FromJson(File.ReadAllText(work.File(JobWorkspace.ObserverSelection)));
        output.WriteLine(selection.Describe());
        Assert.Equal(ActivationObserverSelection.SqnrDb, selection.Measure);
        Assert.Equal(selection.Accuracies.MaxBy(a => a.Value).Key, selection.Winner);
        Assert.Contains(" dB", selection.Describe());
        // The report ranks by each layer's own SQNR: no top-1 gain without labels.
        Assert.NotEmpty(convert!.Layers!);
        Assert.All(convert.Layers!, l => Assert.Null(l.AccuracyGainWhenFloat));
        var budget = FidelityBudgetOutcome.FromJson(File.ReadAllText(work.File(JobWorkspace.FidelityBudget)));
        Assert.True(budget.WithinBudget);
        Assert.Equal(32, budget.ValidationImages);
        Assert.True(budget.Delivered.SqnrDb >= 20);
    }

    [Fact]
    public async Task A_classification_task_on_a_model_without_logits_is_refused_in_the_users_terms()
    {
        using var work = new TempDirectory();
        var request = new OptimizationRequest(
            OnnxModelName.Of(Segmentation), DatasetCatalog.SyntheticName, null, ZooOnnxFixtures.PathOf(Segmentation),
            new TrainingOptions(), new QuantizationOptions(), new EvaluationOptions { TestSubset = 8 }, Preprocessing: Preprocessing,
            Output: new OutputOptions { Task = JobTask.Classification });

        var error = await Assert.ThrowsAsync<PipelineInputException>(() => new OptimizationPipeline().RunStageAsync(
            PipelineStage.EvaluateFp32, request, work.Path, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None));

        Assert.Contains("A classification job needs (N, 10) logits for the dataset's 10 classes; output 'probability_map' is [N, 1, 32, 48]", error.Message);
    }

    [Fact]
    public async Task An_accuracy_budget_on_a_generic_job_is_refused_with_its_generic_counterparts_named()
    {
        using var work = new TempDirectory();
        var request = new OptimizationRequest(
            OnnxModelName.Of(Segmentation), DatasetCatalog.SyntheticName, null, ZooOnnxFixtures.PathOf(Segmentation),
            new TrainingOptions(), new QuantizationOptions { MaxAccuracyDrop = 1 }, new EvaluationOptions { TestSubset = 8 }, Preprocessing: Preprocessing);

        var error = await Assert.ThrowsAsync<PipelineInputException>(() => new OptimizationPipeline().RunStageAsync(
            PipelineStage.EvaluateFp32, request, work.Path, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None));

        Assert.Contains("use quantization.minSqnrDb or quantization.minAgreement", error.Message);
    }

    // ADR-020's SQNR, worked out here in float64 over plain arrays: 10 log10(Σ f² / Σ (q − f)²).
    private static double Sqnr(Tensor form, Tensor fp32)
    {
        Assert.Equal(fp32.shape, form.shape);
        var (f, q) = (fp32.contiguous().data<float>().ToArray(), form.contiguous().data<float>().ToArray());
        double signal = 0, noise = 0;
        for (var i = 0; i < f.Length; i++)
        {
            signal += (double)f[i] * f[i];
            noise += ((double)q[i] - f[i]) * ((double)q[i] - f[i]);
        }
        return 10 * Math.Log10(signal / noise);
    }

    private static Tensor RecordedFp32Outputs(TempDirectory work)
    {
        var (tensors, _) = SafeTensorsFile.Read(File.ReadAllBytes(work.File(JobWorkspace.Fp32Outputs)));
        return Assert.Single(tensors).Value;
    }

    // The first test images of the synthetic set under the job's preprocessing, as the job reads them.
    private static Tensor EvaluationImagesOfTheJob()
    {
        using var splits = SyntheticDataset.Create();
        using var test = splits.Test.WithPreprocessing(Preprocessing);
        using var first = test.Take(EvaluationImages);
        using var batch = first.Batches(EvaluationImages).Single();
        return batch.Images.clone();
    }
}
