using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Import;

namespace ModelOpt.Engine.Tests.Runtime;

/// <summary>
/// ADR-023 on the two-output fixture (logits [10], box [4]) below the pipeline: the FP32 model keeps both outputs and
/// packs them, the fake-quantized interpreter and the TorchScript int8 module return both in graph order, the int8
/// checkpoint rebuilds them by name, and fidelity on the packed tensors is each output's own.
/// </summary>
[Collection(QuantizedEngineCollection.Name)]
public class SeveralOutputsFormsTests
{
    private const string File = "two_output_net_opset13.onnx";

    [Fact]
    public void Every_form_returns_both_outputs_in_graph_order_and_packing_keeps_each_outputs_fidelity()
    {
        using var fp32 = Fp32Model.FromOnnx(ZooOnnxFixtures.PathOf(File), [3, 32, 32], numClasses: null);
        Assert.Equal(["logits", "box"], fp32.Outputs.Names);
        Assert.Equal([[10L], [4L]], fp32.Outputs.Outputs.Select(o => o.Shape));
        using var splits = SyntheticDataset.Create(trainCount: 32, testCount: 8);
        using var calibrationBatch = splits.Train.Batches(32).Single();
        using var testBatch = splits.Test.Batches(8).Single();
        var (calibration, images) = (calibrationBatch.Images, testBatch.Images);
        using var packed = fp32.Forward(images);
        var fp32Outputs = GraphInterpreter.RunAll(fp32.Graph, images);
        Assert.Equal([8L, 14], packed.shape);
        // The eager forward runs channels-last conv weights, the graph NCHW ones: the same sums in another order.
        Assert.True(packed.allclose(cat([fp32Outputs[0], fp32Outputs[1]], 1), rtol: 1e-5, atol: 1e-6));

        using var prepared = QuantizePt2e.Prepare(fp32.Graph, X86InductorQuantizer.GetDefaultQuantizationConfig());
        QuantizePt2e.Calibrate(prepared, [calibration]);
        using var quantized = QuantizePt2e.Convert(prepared);
        var fakeQuantized = FakeQuantizedGraphInterpreter.RunAll(quantized, images);
        var (rebuilt, descriptor) = Int8SafeTensorsCheckpoint.Load(
            Int8SafeTensorsCheckpoint.Serialize(quantized, new Int8ModelDescriptor(OnnxModelName.Of(File), [3, 32, 32], 0)), ZooOnnxFixtures.PathOf(File));
        using (rebuilt)
        using (var int8 = TorchScriptInt8Model.Build(rebuilt))
        {
            Assert.Equal(["logits", "box"], rebuilt.Graph.OutputNames);
            Assert.Null(descriptor.OutputName);
            var libTorch = int8.RunAll(images);

            // Both int8 forms give both outputs, shaped as FP32's, and agree with each other as the kernels' rounding allows.
            Assert.Equal([[8L, 10], [8L, 4]], fakeQuantized.Select(t => t.shape));
            Assert.Equal([[8L, 10], [8L, 4]], libTorch.Select(t => t.shape));
            var names = fp32.Outputs.Names.ToList();
            for (var i = 0; i < 2; i++)
            {
                var agreement = new FidelityAccumulator(names[i], null);
                agreement.Add(fakeQuantized[i], libTorch[i]);
                Assert.True(agreement.Result().SqnrDb > 30, $"'{names[i]}': LibTorch vs fake-quant SQNR {agreement.Result().SqnrDb:F1} dB");
            }

            // Measured on the packed tensors (one batch, as the tensors here), each output's fidelity is the one its own tensors give.
            var measured = FidelityEvaluator.Measure(int8.Run, splits.Test, packed, fp32.Outputs, classAxis: null, batchSize: 8);
            var references = fp32.Outputs.Unpack(packed);
            for (var i = 0; i < 2; i++)
            {
                var own = new FidelityAccumulator(names[i], FidelityEvaluator.ClassAxisOf(null, 2));
                own.Add(references[i], libTorch[i]);
                Assert.Equal(own.Result().SqnrDb, measured[i].SqnrDb, 9);
                Assert.Equal(own.Result().ArgmaxAgreement, measured[i].ArgmaxAgreement);
            }
            Assert.Equal(measured.Min(m => m.SqnrDb), FidelityEvaluator.Worst(measured).SqnrDb);
            DisposeAll(libTorch);
            DisposeAll(references);
        }
        DisposeAll(fakeQuantized);
        DisposeAll(fp32Outputs);
    }

    [Fact]
    public void The_fused_form_declines_a_graph_with_two_outputs_saying_why()
    {
        using var fp32 = Fp32Model.FromOnnx(ZooOnnxFixtures.PathOf(File), [3, 32, 32], numClasses: null);
        using var splits = SyntheticDataset.Create(trainCount: 8, testCount: 1);
        using var calibration = splits.Train.Batches(8).Single();
        using var prepared = QuantizePt2e.Prepare(fp32.Graph, X86InductorQuantizer.GetDefaultQuantizationConfig());
        QuantizePt2e.Calibrate(prepared, [calibration.Images]);
        using var quantized = QuantizePt2e.Convert(prepared);

        Assert.Equal("the model has 2 outputs; the fused form returns one", TorchScriptFusedInt8Generator.Unsupported(quantized));
    }

    private static void DisposeAll(IEnumerable<Tensor> tensors)
    {
        foreach (var tensor in tensors)
        {
            tensor.Dispose();
        }
    }
}
