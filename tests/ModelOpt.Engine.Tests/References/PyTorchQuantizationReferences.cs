using System.Text.Json;
using ModelOpt.Engine.Tests.Checkpoints;

namespace ModelOpt.Engine.Tests.References;

/// <summary>
/// What real PyTorch computed for ModelOpt's quantization, written by <c>scripts/make_quantization_references.py</c>
/// (Debian's PyTorch 1.13) into <c>TestData/references/</c>: observer qparams on seeded tensors, and FX post-training
/// quantization of the resnet20 and resnet18-cifar fixtures. The tests read these files and never need PyTorch.
/// </summary>
internal sealed record PyTorchQuantizationReferences(string Torch, double Eps, ObserverReferences Observers, FxReferences Fx)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static PyTorchQuantizationReferences FromTestData { get; } = JsonSerializer.Deserialize<PyTorchQuantizationReferences>(
        File.ReadAllText(Path.Combine(Folder, "quantization_references.json")), Json)!;

    private static string Folder => Path.Combine(AppContext.BaseDirectory, "TestData", "references");

    /// <summary>A raw float32 little-endian file written beside the references, with its shape.</summary>
    public static Tensor Read(TensorFile file) => Fixtures.Floats(Path.Combine(Folder, file.File), file.Shape);

    /// <summary>A raw int8 file written beside the references.</summary>
    public static sbyte[] ReadInt8(string file) => Array.ConvertAll(File.ReadAllBytes(Path.Combine(Folder, file)), b => unchecked((sbyte)b));
}

internal sealed record TensorFile(string File, long[] Shape);

internal sealed record ObserverReferences(Dictionary<string, TensorFile> Tensors, IReadOnlyList<ObserverReference> Cases);

/// <summary>One observer fed the slices <paramref name="Batches"/> (indices along dim 0) of a tensor, in order.</summary>
internal sealed record ObserverReference(string Observer, string Spec, string Tensor, int[] Batches, double[] Scale, long[] ZeroPoint)
{
    public override string ToString() => $"{Observer} {Spec} on {Tensor}[{string.Join(", ", Batches)}]";
}

/// <summary>The calibration batch and test images every FX model ran on (1 channel, repeated to a model's channels).</summary>
internal sealed record FxReferences(TensorFile Calibration, TensorFile Input, Dictionary<string, FxReference> Models);

/// <summary>One fixture's FX quantization; <paramref name="Int8Weights"/> names a file of all its int8 weights, when written.</summary>
internal sealed record FxReference(
    string Checkpoint,
    long Channels,
    string Engine,
    float[][] Fp32Logits,
    float[][] Int8Logits,
    Dictionary<string, FxLayer> Layers,
    string? Int8Weights);

/// <summary>
/// A quantized conv or linear of the FX model: its output's qparams, its weight's per-channel scales and shape, the
/// offset of its int8 weight in the weights file, and <see cref="Checksum"/> of that weight.
/// </summary>
internal sealed record FxLayer(double Scale, long ZeroPoint, double[] WeightScales, long[] WeightShape, long WeightOffset, long WeightChecksum)
{
    /// <summary>The script's <c>weight_checksum</c>: the sum of w[i] * (i % 8191 + 1) over the flat weight.</summary>
    public static long Checksum(sbyte[] weight)
    {
        long sum = 0;
        for (var i = 0; i < weight.Length; i++)
        {
            sum += weight[i] * (i % 8191 + 1L);
        }
        return sum;
    }
}
