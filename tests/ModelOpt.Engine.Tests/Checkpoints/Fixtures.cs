using System.Text.Json;

namespace ModelOpt.Engine.Tests.Checkpoints;

/// <summary>The PyTorch-written fixtures: small ones copied into TestData, the 45 MB one read from ../shared/fixtures.</summary>
internal static class Fixtures
{
    public const string ResNet20Plain = "resnet20_1ch_random.pth";
    public const string ResNet20TrainingDict = "resnet20_1ch_checkpoint_dict.pth";
    public const string ResNet18Cifar = "resnet18_cifar_3ch_random.pth";

    public static string TestData(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", name);

    /// <summary>A file from the <c>shared/fixtures</c> folder beside the repository, found by walking up from the test binaries; null when absent.</summary>
    public static string? Shared(string name) => Above(Path.Combine("shared", "fixtures", name));

    /// <summary>The file at <paramref name="relativePath"/> under the nearest folder above the test binaries that has it; null when none does.</summary>
    public static string? Above(string relativePath)
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            var candidate = Path.Combine(dir.FullName, relativePath);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }

    /// <summary>A raw float32 little-endian input file as an [n, channels, 32, 32] tensor.</summary>
    public static Tensor Input(string name, long channels)
    {
        var path = TestData(name);
        return Floats(path, [new FileInfo(path).Length / sizeof(float) / (channels * 32 * 32), channels, 32, 32]);
    }

    /// <summary>A raw float32 little-endian file (as numpy's <c>tofile</c> writes) as a tensor of the given shape.</summary>
    public static Tensor Floats(string path, long[] shape)
    {
        var bytes = File.ReadAllBytes(path);
        var values = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, values, 0, bytes.Length);
        return tensor(values, shape);
    }

    /// <summary>PyTorch's eval-mode logits recorded in expected.json for the given checkpoint.</summary>
    public static float[,] ExpectedLogits(string checkpoint, string property)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(TestData("expected.json")));
        return ExpectedLogits(json.RootElement.GetProperty(checkpoint).GetProperty(property));
    }

    /// <summary>A JSON array of logit rows.</summary>
    public static float[,] ExpectedLogits(JsonElement logits)
    {
        var rows = logits.EnumerateArray().Select(r => r.EnumerateArray().Select(v => v.GetSingle()).ToArray()).ToArray();
        var result = new float[rows.Length, rows[0].Length];
        for (var i = 0; i < rows.Length; i++)
        {
            for (var j = 0; j < rows[i].Length; j++)
            {
                result[i, j] = rows[i][j];
            }
        }
        return result;
    }

    public static Tensor Logits(nn.Module<Tensor, Tensor> model, Tensor input)
    {
        model.eval();
        using var noGrad = no_grad();
        return model.call(input);
    }

    public static void AssertClose(float[,] expected, Tensor actual, float tolerance)
    {
        Assert.Equal([expected.GetLength(0), expected.GetLength(1)], actual.shape);
        var values = actual.data<float>().ToArray();
        var worst = 0f;
        for (var i = 0; i < expected.GetLength(0); i++)
        {
            for (var j = 0; j < expected.GetLength(1); j++)
            {
                worst = Math.Max(worst, Math.Abs(expected[i, j] - values[i * expected.GetLength(1) + j]));
            }
        }
        Assert.True(worst <= tolerance, $"largest logit difference {worst} exceeds {tolerance}");
    }
}
