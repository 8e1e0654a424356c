using System.Text.Json;
using System.Text.Json.Serialization;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Checkpoints;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>One output of a fixture: its name in the graph and its shape per image (null for a dynamic dimension).</summary>
internal sealed record ZooOnnxOutput(string Name, long?[] Shape);

/// <summary>
/// One file of TestData/onnx-zoo as manifest.json describes it (scripts/make_zoo_onnx_fixtures.py, PyTorch 1.13):
/// <see cref="InputShape"/> is [C, H, W] with null for a dynamic dimension, <see cref="TestInputShape"/> the size the
/// tests give such a graph. <see cref="FxInt8SqnrDb"/> is the int8 reference: per output, the SQNR of PyTorch FX's
/// int8 model of the same weights (onednn qconfig) on the images <see cref="ZooOnnxFixtures.Images"/> computes, or
/// <see cref="FxInt8Failure"/> where FX cannot quantize the net.
/// </summary>
internal sealed record ZooOnnxFixture(
    string File, string Architecture, string Family, int Opset, long?[] InputShape, IReadOnlyList<ZooOnnxOutput> Outputs,
    long Bytes, long[]? TestInputShape, int? ClassAxis, string? ChannelOrder, double[]? PixelRange, double[]? FxInt8SqnrDb, string? FxInt8Failure)
{
    /// <summary>The [C, H, W] the tests run: the graph's own, or the manifest's choice where H and W are dynamic.</summary>
    public long[] RunShape => TestInputShape ?? [.. InputShape.Select(d => d ?? throw new InvalidOperationException($"{File}: dynamic input without a test size"))];

    public override string ToString() => File;
}

/// <summary>An export that failed in the fixture script, with the exporter's message.</summary>
internal sealed record ZooOnnxExportFailure(string Architecture, int Opset, string Reason);

/// <summary>How many images the FX reference was measured and calibrated on: the tests use the same.</summary>
internal sealed record ZooOnnxTestImages(int Evaluation, int Calibration);

internal sealed record ZooOnnxManifest(
    string Torch, string Torchvision, ZooOnnxTestImages TestImages, IReadOnlyList<ZooOnnxFixture> Files,
    IReadOnlyList<ZooOnnxExportFailure> ExportFailures, long TotalBytes);

/// <summary>
/// The fixtures of issues 22 and 23 and what the tests feed them. No reference outputs are committed: every test runs
/// ONNX Runtime on the same file and the same inputs.
/// </summary>
internal static class ZooOnnxFixtures
{
    public const string Folder = "onnx-zoo";

    /// <summary>The families of manifest.json: torchvision's classifiers, the other-exporter graph, issue 23's nets.</summary>
    public const string TorchVision = "torchvision", OtherExporter = "other_exporter", AnyOutput = "any_output";

    private static readonly Lazy<ZooOnnxManifest> Loaded = new(() => JsonSerializer.Deserialize<ZooOnnxManifest>(
        File.ReadAllText(PathOf("manifest.json")),
        new JsonSerializerOptions { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, UnmappedMemberHandling = JsonUnmappedMemberHandling.Skip })!);

    public static ZooOnnxManifest Manifest => Loaded.Value;

    public static string PathOf(string file) => Fixtures.TestData(Path.Combine(Folder, file));

    public static ZooOnnxFixture Get(string file) => Manifest.Files.Single(f => f.File == file);

    /// <summary>One theory row per file of a family.</summary>
    public static TheoryData<string> Rows(string family)
    {
        var rows = new TheoryData<string>();
        foreach (var fixture in Manifest.Files.Where(f => f.Family == family))
        {
            rows.Add(fixture.File);
        }
        return rows;
    }

    /// <summary>The images of the FX reference's measurement and calibration (the fixture script's seeds).</summary>
    public const long EvaluationSeed = 22, CalibrationSeed = 23;

    /// <summary>
    /// The test images, by the formula of the fixture script's <c>smooth_images</c>, so PyTorch FX's int8 reference was
    /// measured on these very images: for image n, channel c, t = n C + c + 1000 seed, row y / H, column x / W,
    /// sin(2π k1 x + 1.618 t) cos(2π k2 y + 0.7071 t) + 0.5 sin(2π (1 + t mod 3)(x + y) + 2.3 t) + 0.1 sin(12.9898 i + 78.233 t),
    /// k1 = 1 + (7 t + 3) mod 4, k2 = 1 + (5 t + 1) mod 4, i the flat pixel index, in float64. Low frequencies differ
    /// per image (white noise would average out in a global pool). A fixture with a pixel range (0-255 for the
    /// other-exporter graph) gets them mapped into it.
    /// </summary>
    public static Tensor Images(ZooOnnxFixture fixture, long count, long seed)
    {
        using var scope = NewDisposeScope();
        var (channels, height, width) = (fixture.RunShape[0], fixture.RunShape[1], fixture.RunShape[2]);
        var n = arange(count, float64).view(-1, 1, 1, 1);
        var c = arange(channels, float64).view(1, -1, 1, 1);
        var t = n * channels + c + 1000 * seed;
        var row = arange(height, float64).view(1, 1, -1, 1);
        var column = arange(width, float64).view(1, 1, 1, -1);
        var (y, x, i) = (row / height, column / width, row * width + column);
        var k1 = 1 + (7 * t + 3).remainder(4);
        var k2 = 1 + (5 * t + 1).remainder(4);
        var twoPi = 2 * Math.PI;
        var images = (sin(twoPi * k1 * x + 1.618 * t) * cos(twoPi * k2 * y + 0.7071 * t)
                      + 0.5 * sin(twoPi * (1 + t.remainder(3)) * (x + y) + 2.3 * t)
                      + 0.1 * sin(12.9898 * i + 78.233 * t)).to(float32);
        if (fixture.PixelRange is [var low, var high])
        {
            images = (images * ((high - low) / 6) + (low + high) / 2).clamp(low, high);
        }
        return images.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// The importer call of these tests, in one place: the graph of the fixture's output <paramref name="output"/> (the
    /// captured graph has one output; a two-output model is imported once per output, by name), of any shape; a graph
    /// whose height and width are dynamic is read at the size the test images have (<see cref="ZooOnnxFixture.RunShape"/>),
    /// as a job's preprocessing would give it.
    /// </summary>
    public static ImportedOnnxModel Import(ZooOnnxFixture fixture, int output = 0)
    {
        var dynamic = fixture.InputShape.Skip(1).Any(d => d is null);
        return OnnxImporter.Import(PathOf(fixture.File), new OnnxImportOptions(
            InputHeight: dynamic ? fixture.RunShape[1] : null, InputWidth: dynamic ? fixture.RunShape[2] : null,
            OutputName: fixture.Outputs[output].Name, AnyOutputShape: true));
    }

    /// <summary>ModelOpt's FP32 output.</summary>
    public static Tensor RunFp32(ImportedOnnxModel imported, Tensor input) => GraphInterpreter.Run(imported.Graph, input);

    /// <inheritdoc cref="RunFp32"/>
    public static Tensor RunInt8(TorchScriptInt8Model model, Tensor input) => model.Run(input);
}
