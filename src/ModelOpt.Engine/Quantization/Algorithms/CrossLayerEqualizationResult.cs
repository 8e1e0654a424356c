using System.Globalization;
using System.Text.Json;
using ModelOpt.Engine.Evaluation;

namespace ModelOpt.Engine.Quantization.Algorithms;

/// <summary>What <see cref="CrossLayerEqualization.Apply"/> did: the pairs it equalized and whether the sweeps converged.</summary>
/// <param name="EqualizedFp32">
/// Top-1 of the equalized FP32 model on the job's test images, set by the calibrate stage: beside the FP32 row (the
/// user's model) it shows what replacing ReLU6 by ReLU cost before any quantization.
/// </param>
public sealed record CrossLayerEqualizationResult(IReadOnlyList<EqualizedPair> Pairs, int Sweeps, bool Converged, AccuracyResult? EqualizedFp32 = null)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The first layers of the pairs whose ReLU6 became ReLU: the FP32 function changed after them.</summary>
    public IReadOnlyList<string> Relu6Replaced => [.. Pairs.Where(p => p.Relu6Replaced).Select(p => p.First)];

    /// <summary>One sentence for the job's results.</summary>
    public string Describe() =>
        $"cross-layer equalization: {Pairs.Count} conv pairs, ReLU6 -> ReLU in {Relu6Replaced.Count} of them, " +
        (Converged ? $"converged in {Sweeps} sweeps" : $"not converged after {Sweeps} sweeps") +
        (EqualizedFp32 is { } fp32
            ? string.Create(CultureInfo.InvariantCulture, $"; equalized FP32 model {100 * fp32.Accuracy:F2} % on {fp32.ImagesScored} test images")
            : "");

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static CrossLayerEqualizationResult FromJson(string json) =>
        JsonSerializer.Deserialize<CrossLayerEqualizationResult>(json, Json) ?? throw new JsonException("The cross-layer equalization file is empty.");
}

/// <summary>Conv <paramref name="First"/>'s output channels were balanced against conv <paramref name="Second"/>'s input channels.</summary>
/// <param name="Relu6Replaced">The ReLU6 between them is a ReLU in the equalized model.</param>
public sealed record EqualizedPair(string First, string Second, bool Relu6Replaced);
