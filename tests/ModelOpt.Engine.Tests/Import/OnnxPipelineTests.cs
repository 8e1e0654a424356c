using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Onnx;
using ModelOpt.Engine.Tests.Runtime;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>An ONNX checkpoint through every stage of a job on real Fashion-MNIST, each stage in a fresh pipeline.</summary>
[Collection(QuantizedEngineCollection.Name)]
public class OnnxPipelineTests
{
    public static TheoryData<string> OnePerModel => ["mobilenet_v2_like_opset13_dynamic.onnx", "vgg_like_opset11_nofold_fixed.onnx",
        "inception_like_opset17_fixed.onnx", "squeeze_excite_opset14_nofold_dynamic.onnx"];

    [Theory]
    [MemberData(nameof(OnePerModel))]
    public async Task Onnx_job_runs_every_stage_without_a_zoo_model(string file)
    {
        using var work = new TempDirectory();
        var request = new OptimizationRequest(
            OnnxModelName.Of(file), DatasetCatalog.FashionMnistName, null, OnnxFixtures.PathOf(file),
            new TrainingOptions(), new QuantizationOptions { CalibrationImages = 64, CalibrationBatchSize = 32 },
            new EvaluationOptions { TestSubset = 256, LatencyBatchSize = 16, WarmupRuns = 1, TimedRuns = 2 });

        var outcomes = new List<StageOutcome>();
        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            outcomes.Add(await new OptimizationPipeline().RunStageAsync(
                stage, request, work.Path, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None));
        }

        Assert.Equal([PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Compile], outcomes.Select(o => o.Stage));
        var fp32 = Assert.Single(outcomes[0].Results);
        Assert.Equal(new FileInfo(OnnxFixtures.PathOf(file)).Length, fp32.SizeBytes);
        Assert.Equal(256, Assert.Single(outcomes[2].Results).ImagesScored);
        Assert.Single(outcomes[3].Results, r => r.Selected);
        var manifest = Int8Manifest.FromJson(File.ReadAllText(work.File(JobWorkspace.Int8Manifest)));
        Assert.Equal(OnnxModelName.Of(file), manifest.ModelName);
        // Sigmoid, hardswish, mul (squeeze-excite) and leaky relu (the inception stem) have no int8 kernel.
        var hasFp32Ops = file.StartsWith("squeeze_excite") || file.StartsWith("inception");
        Assert.Equal(hasFp32Ops, manifest.Fp32Nodes is { Count: > 0 });
        using var reloaded = TorchScriptInt8Model.Load(work.File(JobWorkspace.Int8TorchScript));
        using var logits = reloaded.Run(zeros(2, 1, 32, 32));
        Assert.Equal([2L, 10], logits.shape);
    }

    /// <summary>
    /// ConvNeXt and DenseNet keep FP32 ops whose constants (LayerNorm's, a BatchNorm's scale and shift) live in the
    /// graph: Convert, in a fresh pipeline, rebuilds the int8 graph from its checkpoint and the ONNX file, and those
    /// constants must outlive the architecture it was rebuilt from.
    /// </summary>
    [Theory]
    [InlineData("convnext_tiny_opset13.onnx")]
    [InlineData("densenet121_opset17.onnx")]
    public async Task A_zoo_onnx_model_with_float_op_constants_converts_in_a_fresh_pipeline(string file)
    {
        using var work = new TempDirectory();
        var path = ZooOnnxFixtures.PathOf(file);
        var request = new OptimizationRequest(
            OnnxModelName.Of(file), DatasetCatalog.SyntheticName, null, path,
            new TrainingOptions(), new QuantizationOptions { CalibrationImages = 32, CalibrationBatchSize = 32 },
            new EvaluationOptions { TestSubset = 64, LatencyBatchSize = 8, WarmupRuns = 1, TimedRuns = 2 }, Compile: new CompileOptions { Enabled = false });

        foreach (var stage in OptimizationPipeline.StagesFor(request))
        {
            await new OptimizationPipeline().RunStageAsync(stage, request, work.Path, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None);
        }

        var manifest = Int8Manifest.FromJson(File.ReadAllText(work.File(JobWorkspace.Int8Manifest)));
        Assert.True(manifest.Fp32Nodes is { Count: > 0 });
        using var reloaded = TorchScriptInt8Model.Load(work.File(JobWorkspace.Int8TorchScript));
        using var logits = reloaded.Run(ones(2, 3, 32, 32));
        Assert.Equal([2L, 10], logits.shape);
        Assert.True(logits.isfinite().all().item<bool>());
    }

    [Fact]
    public async Task An_onnx_model_whose_input_differs_from_the_dataset_is_an_input_error()
    {
        using var work = new TempDirectory();
        var file = "mobilenet_v2_like_opset13_dynamic.onnx";
        var request = new OptimizationRequest(
            OnnxModelName.Of(file), DatasetCatalog.SyntheticName, null, OnnxFixtures.PathOf(file),
            new TrainingOptions(), new QuantizationOptions(), new EvaluationOptions { TestSubset = 16 });

        var error = await Assert.ThrowsAsync<PipelineInputException>(() => new OptimizationPipeline().RunStageAsync(
            PipelineStage.EvaluateFp32, request, work.Path, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None));

        Assert.Contains("The ONNX model takes [1, 32, 32] images", error.Message);
    }
}
