using System.IO.Compression;
using System.Text;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Runtime;

[Collection(QuantizedEngineCollection.Name)]
public class Int8CheckpointValidationTests
{
    private static readonly Lazy<byte[]> ValidArchive = new(() =>
    {
        manual_seed(2);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, 1, 32, 32], QuantizedModels.Default(), batches: 1);
        using var int8 = TorchScriptInt8Model.Build(quantized);
        return int8.Serialize();
    });

    [Fact]
    public void Truncated_archive_is_rejected()
    {
        var bytes = ValidArchive.Value;

        var e = Assert.Throws<Int8CheckpointException>(() => TorchScriptInt8Model.Load(bytes[..(bytes.Length / 2)]));

        Assert.Contains("zip", e.Message);
    }

    [Theory]
    [InlineData("def forward")]
    [InlineData("conv2d_prepack")]
    public void Flipped_byte_in_generated_code_is_rejected_by_its_crc(string text)
    {
        var bytes = TorchScriptArchive.Create("M", $"class M(Module):\n  # {text}\n", []);
        bytes[IndexOf(bytes, Encoding.ASCII.GetBytes(text)) + 2] ^= 0x20;

        var e = Assert.Throws<Int8CheckpointException>(() => TorchScriptArchive.Validate(bytes));

        Assert.Contains("CRC-32", e.Message);
    }

    [Fact]
    public void Flipped_byte_in_saved_compressed_code_is_rejected()
    {
        // torch.jit.save deflates code/__torch__.py; its data starts after the local header's name and alignment padding.
        var bytes = (byte[])ValidArchive.Value.Clone();
        bytes[IndexOf(bytes, Encoding.ASCII.GetBytes("code/__torch__.py")) + 300] ^= 0x55;

        var e = Assert.Throws<Int8CheckpointException>(() => TorchScriptInt8Model.Load(bytes));

        Assert.Contains("code/__torch__.py", e.Message);
    }

    [Fact]
    public void Flipped_byte_in_the_weight_data_is_rejected_by_its_crc()
    {
        var bytes = (byte[])ValidArchive.Value.Clone();
        bytes[bytes.Length / 2] ^= 0xFF; // the packed weights make up most of the file

        var e = Assert.Throws<Int8CheckpointException>(() => TorchScriptInt8Model.Load(bytes));

        Assert.Contains("corrupt", e.Message);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(100)]
    [InlineData(100_000)]
    public void Bytes_that_are_not_a_zip_are_rejected(int length)
    {
        var bytes = new byte[length];
        new Random(4).NextBytes(bytes);

        var e = Assert.Throws<Int8CheckpointException>(() => TorchScriptInt8Model.Load(bytes));

        Assert.Contains("Not a readable TorchScript archive", e.Message);
    }

    [Fact]
    public void Zip_missing_torchscript_entries_is_rejected()
    {
        using var stream = new MemoryStream();
        using (var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true))
        {
            using var entry = zip.CreateEntry("archive/data.pkl").Open();
            entry.Write([0x80, 0x02, (byte)')', (byte)'.']);
        }

        var e = Assert.Throws<Int8CheckpointException>(() => TorchScriptInt8Model.Load(stream.ToArray()));

        Assert.Contains("'archive/constants.pkl'", e.Message);
        Assert.Contains("'archive/code/'", e.Message);
    }

    [Fact]
    public void Intact_archive_still_loads()
    {
        using var loaded = TorchScriptInt8Model.Load(ValidArchive.Value);
        using var input = zeros(1, 1, 32, 32);
        using var output = loaded.Run(input);

        Assert.Equal([1, 10], output.shape);
    }

    private static int IndexOf(byte[] haystack, byte[] needle)
    {
        var at = haystack.AsSpan().IndexOf(needle);
        Assert.True(at >= 0, "marker not found in the archive");
        return at;
    }
}
