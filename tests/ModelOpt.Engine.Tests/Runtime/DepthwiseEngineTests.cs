using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.TorchScript;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Runtime;

/// <summary>
/// A 3x3 depthwise conv over 128 channels with large activations and weights: the case where LibTorch's X86 engine
/// falls back to fbgemm, whose kernel saturates with full-range uint8 activations (a trained torchvision mobilenet_v2
/// lost 1.9 points of accuracy to it). Grouped convs are therefore built for oneDNN.
/// </summary>
[Collection(QuantizedEngineCollection.Name)]
public class DepthwiseEngineTests(ITestOutputHelper output)
{
    [Fact]
    public void A_graph_with_depthwise_convs_is_built_for_onednn_and_matches_the_fake_quant_reference()
    {
        const long channels = 128;
        using var weight = ones(channels, 1, 3, 3);
        var (x, conv, flat) = (new GraphValue(0), new GraphValue(1), new GraphValue(2));
        using var graph = new ModelGraph(
            [new InputNode(x, [1, channels, 8, 8]), new Conv2dNode(conv, "dw", x, weight, null, [1, 1], [1, 1], [1, 1], channels), new FlattenNode(flat, conv, 1)],
            x, flat);
        using var input = rand(16, channels, 8, 8);
        using var prepared = QuantizePt2e.Prepare(graph, X86InductorQuantizer.GetDefaultQuantizationConfig());
        QuantizePt2e.Calibrate(prepared, [input]);
        using var quantized = QuantizePt2e.Convert(prepared);
        using var simulated = FakeQuantizedGraphInterpreter.Run(quantized, input);
        var scale = quantized.QuantizationOf(flat).Scale;

        var engine = QuantizedEngine.For(quantized.Graph);
        using var chosen = TorchScriptInt8Model.Build(quantized, engine);
        using var chosenOutput = chosen.Run(input);
        using var x86 = TorchScriptInt8Model.Build(quantized, QEngine.X86);
        using var x86Output = x86.Run(input);
        QuantizedEngine.Current = QuantizedEngine.Default;

        var chosenSteps = (chosenOutput - simulated).abs().max().item<float>() / scale;
        output.WriteLine($"{engine}: {chosenSteps:F1} output steps from fake-quant; X86: {(x86Output - simulated).abs().max().item<float>() / scale:F1}");
        Assert.Equal(QEngine.OneDnn, engine);
        Assert.True(chosenSteps <= 1, $"{engine} is {chosenSteps:F1} output steps from the fake-quant reference");
    }

    [Fact]
    public void A_graph_without_grouped_convs_keeps_the_default_engine()
    {
        using var weight = ones(4, 2, 3, 3);
        var (x, conv) = (new GraphValue(0), new GraphValue(1));
        using var graph = new ModelGraph([new InputNode(x, [1, 2, 8, 8]), new Conv2dNode(conv, "c", x, weight, null, [1, 1], [1, 1], [1, 1], 1)], x, conv);

        Assert.Equal(QuantizedEngine.Default, QuantizedEngine.For(graph));
    }
}
