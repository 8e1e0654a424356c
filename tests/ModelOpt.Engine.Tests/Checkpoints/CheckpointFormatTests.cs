using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Models;

namespace ModelOpt.Engine.Tests.Checkpoints;

/// <summary>Damaged or foreign files give a <see cref="CheckpointFormatException"/> naming the file, in every format.</summary>
public sealed class CheckpointFormatTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("modelopt-ckpt-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Theory]
    [InlineData(CheckpointFormat.PyTorch)]
    [InlineData(CheckpointFormat.Safetensors)]
    [InlineData(CheckpointFormat.TorchSharp)]
    public void Truncated_checkpoint_is_a_format_error(CheckpointFormat format)
    {
        var whole = SaveRandomResNet20(format);
        var truncated = Path.Combine(folder, "truncated" + Path.GetExtension(whole));
        var bytes = File.ReadAllBytes(whole);
        File.WriteAllBytes(truncated, bytes[..(bytes.Length * 2 / 3)]);

        var error = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(truncated));
        Assert.Equal(Path.GetFileName(truncated), error.SourceName);
        Assert.Contains("'truncated", error.Message);
        Assert.DoesNotContain(folder, error.Message);
    }

    [Fact]
    public void Truncated_pytorch_fixture_leaves_the_model_unchanged()
    {
        var bytes = File.ReadAllBytes(Fixtures.TestData(Fixtures.ResNet20Plain));
        var truncated = Write("resnet20.pth", bytes[..(bytes.Length - 100)]);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var before = model.state_dict()["conv1.weight"].clone();

        Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.LoadInto(model, truncated));
        Assert.True(model.state_dict()["conv1.weight"].allclose(before, rtol: 0, atol: 0));
    }

    [Theory]
    [InlineData("random bytes")]
    [InlineData("zip magic then garbage")]
    [InlineData("safetensors-like header claiming too much")]
    [InlineData("text")]
    [InlineData("empty")]
    public void Foreign_content_is_a_format_error(string kind)
    {
        var random = new Random(7);
        var garbage = new byte[4096];
        random.NextBytes(garbage);
        byte[] content = kind switch
        {
            "random bytes" => garbage,
            "zip magic then garbage" => [.. "PK\x03\x04"u8, .. garbage],
            "safetensors-like header claiming too much" => [.. BitConverter.GetBytes(1_000_000UL), .. "{\"a\":1}"u8],
            "text" => "epoch,loss\n1,0.5\n2,0.4\n"u8.ToArray(),
            _ => [],
        };
        var path = Write("upload.pth", content);

        var error = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(path));
        Assert.Contains($"'{Path.GetFileName(path)}'", error.Message);
        Assert.DoesNotContain(folder, error.Message);
    }

    [Fact]
    public void Missing_file_is_a_format_error_naming_it()
    {
        var path = Path.Combine(folder, "nowhere.pth");
        var error = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(path));
        Assert.Equal("nowhere.pth", error.SourceName);
        Assert.DoesNotContain(folder, error.Message);
    }

    [Theory]
    [InlineData(CheckpointFormat.PyTorch)]
    [InlineData(CheckpointFormat.Safetensors)]
    [InlineData(CheckpointFormat.TorchSharp)]
    public void Format_is_detected_from_content_not_extension(CheckpointFormat format)
    {
        var saved = SaveRandomResNet20(format);
        var misnamed = Path.Combine(folder, "weights.ckpt");
        File.Copy(saved, misnamed);

        using var checkpoint = CheckpointReader.Read(misnamed);
        Assert.Equal(format, checkpoint.Format);
        Assert.Equal(128, checkpoint.Tensors.Count);
    }

    private string SaveRandomResNet20(CheckpointFormat format)
    {
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        var path = Path.Combine(folder, $"resnet20-{format}.ckpt");
        CheckpointWriter.Save(model, path, format);
        return path;
    }

    private string Write(string name, byte[] content)
    {
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }
}
