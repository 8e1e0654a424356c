using System.Text.Json;
using ModelOpt.Engine.Tests.Checkpoints;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>
/// The ONNX files scripts/make_onnx_fixtures.py wrote with PyTorch 1.13 under TestData/onnx, and what PyTorch computed
/// on their shared inputs: FP32 logits and the logits of PyTorch FX's int8 model of the same weights (onednn qconfig,
/// calibrated on those inputs).
/// </summary>
internal static class OnnxFixtures
{
    private static readonly Lazy<JsonDocument> Expected = new(() => JsonDocument.Parse(File.ReadAllText(PathOf("expected.json"))));

    public static string PathOf(string file) => Fixtures.TestData(Path.Combine("onnx", file));

    /// <summary>Every exported file with the model it came from.</summary>
    public static IEnumerable<(string Model, string File)> Files() =>
        Expected.Value.RootElement.GetProperty("models").EnumerateObject()
            .SelectMany(m => m.Value.GetProperty("files").EnumerateArray().Select(f => (m.Name, f.GetProperty("file").GetString()!)));

    public static TheoryData<string, string> All()
    {
        var data = new TheoryData<string, string>();
        foreach (var (model, file) in Files())
        {
            data.Add(model, file);
        }
        return data;
    }

    public static string UnsupportedFile => Expected.Value.RootElement.GetProperty("unsupported").GetProperty("file").GetString()!;

    /// <summary>The 32 x 1 x 32 x 32 standard-normal inputs every logit was recorded on.</summary>
    public static Tensor Inputs()
    {
        var file = Expected.Value.RootElement.GetProperty("inputs").GetString()!;
        var bytes = File.ReadAllBytes(PathOf(file));
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return tensor(values, [values.Length / (32 * 32), 1, 32, 32]);
    }

    public static Tensor Fp32Logits(string model) => Logits(model, "fp32_logits");

    public static Tensor FxInt8Logits(string model) => Logits(model, "fx_int8_logits");

    private static Tensor Logits(string model, string property)
    {
        var rows = Expected.Value.RootElement.GetProperty("models").GetProperty(model).GetProperty(property).EnumerateArray()
            .Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        return tensor(rows.SelectMany(r => r).ToArray(), [rows.Length, rows[0].Length]);
    }

    /// <summary>Largest |actual - expected| relative to the largest |expected|: the logits' own scale.</summary>
    public static double RelativeError(Tensor actual, Tensor expected)
    {
        Assert.Equal(expected.shape, actual.shape);
        using var difference = (actual - expected).abs().max();
        using var scale = expected.abs().max();
        return difference.item<float>() / Math.Max(scale.item<float>(), 1e-12);
    }

    /// <summary>The fraction of rows whose arg-max agrees.</summary>
    public static double Top1Agreement(Tensor a, Tensor b)
    {
        using var same = (a.argmax(1) == b.argmax(1)).to_type(ScalarType.Float32).mean();
        return same.item<float>();
    }
}
