using System.Text.Json;
using ModelOpt.Engine.Tests.Checkpoints;

namespace ModelOpt.Engine.Tests.References;

/// <summary>
/// What real PyTorch computed for ModelOpt's quantization, written by <c>scripts/make_quantization_references.py</c>
/// (Debian's PyTorch 1.13) into <c>TestData/references/</c>: observer qparams on seeded tensors, and FX post-training
/// quantization of the resnet20 fixture. The tests read these files and never need PyTorch.
/// </summary>
internal sealed record PyTorchQuantizationReferences(string Torch, double Eps, ObserverReferences Observers, FxReference FxResnet20)
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

internal sealed record FxReference(
    string Checkpoint,
    TensorFile Calibration,
    TensorFile Input,
    string Engine,
    float[][] Fp32Logits,
    float[][] Int8Logits,
    Dictionary<string, FxLayer> Layers,
    string Int8Weights);

/// <summary>A quantized conv or linear of the FX model: its output's qparams, and its int8 weight at an offset of the weights file.</summary>
internal sealed record FxLayer(double Scale, long ZeroPoint, double[] WeightScales, long[] WeightShape, long WeightOffset);
