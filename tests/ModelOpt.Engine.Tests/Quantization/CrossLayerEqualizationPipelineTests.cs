using ModelOpt.Engine.Data;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Fusion;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Quantization;

[Collection(TrainedResNet20Collection.Name)]
public class CrossLayerEqualizationPipelineTests(TrainedResNet20 trained, ITestOutputHelper output) : IDisposable
{
    private const int TestImages = 300;
    private const string PairedLayer = "layer2.1.conv1";

    private readonly string workDirectory = Directory.CreateTempSubdirectory("modelopt-cle-").FullName;

    [Fact]
    public async Task The_job_option_equalizes_before_calibration_and_the_int8_model_holds_the_equalized_weights()
    {
        var request = new OptimizationRequest(
            ModelZoo.ResNet20, DatasetCatalog.FashionMnistName, DataPath: null, CheckpointPath: trained.CheckpointPath, new TrainingOptions(),
            new QuantizationOptions { PerChannelWeights = false, CalibrationImages = 128, CrossLayerEqualization = true },
            new EvaluationOptions { TestSubset = TestImages, LatencyBatchSize = 16, WarmupRuns = 1, TimedRuns = 2 });
        var outcomes = new Dictionary<PipelineStage, StageOutcome>();
        foreach (var stage in new[] { PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert })
        {
            outcomes[stage] = await new OptimizationPipeline().RunStageAsync(stage, request, workDirectory, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None);
        }

        var result = CrossLayerEqualizationResult.FromJson(File.ReadAllText(Path.Combine(workDirectory, JobWorkspace.CrossLayerEqualization)));
        var fp32 = Assert.Single(outcomes[PipelineStage.EvaluateFp32].Results);
        var int8 = Assert.Single(outcomes[PipelineStage.Convert].Results);
        output.WriteLine($"FP32 {fp32.Accuracy:P2}, int8 {int8.Accuracy:P2}; {int8.Note}");
        // resnet20's nine basic blocks: conv1 -> ReLU -> conv2; no ReLU6, so the equalized FP32 model is the user's function.
        Assert.Equal(9, result.Pairs.Count);
        Assert.Contains(new EqualizedPair(PairedLayer, "layer2.1.conv2", false), result.Pairs);
        Assert.Empty(result.Relu6Replaced);
        Assert.True(result.Converged);
        Assert.Equal(TestImages, result.EqualizedFp32!.ImagesScored);
        Assert.True(Math.Abs(result.EqualizedFp32.Accuracy - fp32.Accuracy!.Value) <= 1.0 / TestImages, $"equalized FP32 {result.EqualizedFp32.Accuracy:P2} vs {fp32.Accuracy:P2}");
        Assert.Contains(outcomes[PipelineStage.Calibrate].Artifacts, a => a.Name == JobWorkspace.CrossLayerEqualization);
        Assert.Contains("cross-layer equalization: 9 conv pairs", int8.Note);
        Assert.True(int8.Accuracy > fp32.Accuracy - 0.05, $"int8 {int8.Accuracy:P2} vs FP32 {fp32.Accuracy:P2}");

        // The delivered int8 weight is the equalized FP32 weight rounded (within half a step), not the folded one.
        using var captured = GraphBuilder.Capture(trained.Model, [1, 1, 32, 32]);
        var (equalized, _) = CrossLayerEqualization.Apply(captured);
        using (equalized)
        using (var folded = GraphFusion.FoldBatchNorm(captured))
        {
            var (quantized, _) = Int8SafeTensorsCheckpoint.Load(Path.Combine(workDirectory, JobWorkspace.Int8SafeTensors));
            using (quantized)
            using (var dequantized = FakeQuantizedGraphInterpreter.DequantizedWeight(quantized, PairedLayer))
            {
                var halfStep = quantized.Weights[PairedLayer].Scales.max().item<double>() / 2;
                var fromEqualized = (dequantized - Weight(equalized)).abs().max().item<float>();
                var fromFolded = (dequantized - Weight(folded)).abs().max().item<float>();
                output.WriteLine($"{PairedLayer}: half step {halfStep:G3}, off the equalized weight by {fromEqualized:G3}, off the folded one by {fromFolded:G3}");
                Assert.True(fromEqualized <= halfStep * 1.001, $"{fromEqualized:G3} > {halfStep:G3}");
                Assert.True(fromFolded > 2 * halfStep, $"the folded weight is as close ({fromFolded:G3})");
            }
        }
    }

    private static Tensor Weight(ModelGraph graph) => graph.Nodes.OfType<Conv2dNode>().Single(c => c.Name == PairedLayer).Weight;

    public void Dispose() => Directory.Delete(workDirectory, recursive: true);
}
