using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;

namespace ModelOpt.Engine.Runtime.Int8Checkpoint;

/// <summary>A manifest line per int8 conv / linear layer (those kept FP32 are among the manifest's FP32 nodes): its int8 weight's shape and the range of its scales and zero points.</summary>
public sealed record Int8LayerSummary(
    string Name, string Kind, long[] WeightShape, bool PerChannel, double ScaleMin, double ScaleMax, long ZeroPointMin, long ZeroPointMax, bool HasBias)
{
    public static IReadOnlyList<Int8LayerSummary> From(QuantizedGraph quantized) =>
        quantized.Graph.Nodes
            .Select(n => n switch
            {
                Conv2dNode conv => (conv.Name, Kind: conv.Relu ? "conv2d_relu" : "conv2d"),
                LinearNode linear => (linear.Name, Kind: linear.Relu ? "linear_relu" : "linear"),
                _ => (Name: "", Kind: ""),
            })
            .Where(l => l.Kind != "" && quantized.Weights.ContainsKey(l.Name))
            .Select(l => Summarize(l.Name, l.Kind, quantized.Weights[l.Name]))
            .ToList();

    private static Int8LayerSummary Summarize(string name, string kind, WeightQuantization weight)
    {
        using var scales = weight.Scales.to_type(ScalarType.Float64);
        using var zeroPoints = weight.ZeroPoints.to_type(ScalarType.Int64);
        return new Int8LayerSummary(
            name, kind, weight.IntWeight.shape, weight.PerChannel,
            scales.min().item<double>(), scales.max().item<double>(),
            zeroPoints.min().item<long>(), zeroPoints.max().item<long>(), weight.Bias is not null);
    }
}
