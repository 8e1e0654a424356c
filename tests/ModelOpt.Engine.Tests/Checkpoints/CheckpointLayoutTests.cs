using System.Buffers.Binary;
using System.IO.Compression;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Models;

namespace ModelOpt.Engine.Tests.Checkpoints;

/// <summary>
/// <see cref="CheckpointReader.ReadLayout(string)"/>: the same names, shapes and dtypes as the full read, in every
/// format, without touching tensor data; damaged files are still rejected; validation lists every mismatch.
/// </summary>
public sealed class CheckpointLayoutTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("modelopt-layout-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Theory]
    [InlineData(Fixtures.ResNet20Plain)]
    [InlineData(Fixtures.ResNet20TrainingDict)]
    public void Pytorch_fixture_layout_equals_the_full_read(string fixture)
    {
        var path = Fixtures.TestData(fixture);
        AssertLayoutEqualsFullRead(path, CheckpointFormat.PyTorch);
    }

    [Theory]
    [InlineData(CheckpointFormat.PyTorch)]
    [InlineData(CheckpointFormat.Safetensors)]
    [InlineData(CheckpointFormat.TorchSharp)]
    public void Written_checkpoint_layout_equals_the_full_read(CheckpointFormat format)
    {
        AssertLayoutEqualsFullRead(SaveRandomResNet20(format), format);
    }

    [SharedFixtureFact(Fixtures.ResNet18Cifar)]
    public void Large_pytorch_fixture_layout_equals_the_full_read_and_fits_resnet18()
    {
        var path = Fixtures.Shared(Fixtures.ResNet18Cifar)!;
        var layout = CheckpointReader.ReadLayout(path);
        using var checkpoint = CheckpointReader.Read(path);

        Assert.Equal(checkpoint.Layout.Entries.OrderBy(e => e.Key), layout.Entries.OrderBy(e => e.Key));
        CheckpointValidator.Validate(layout, ModelZoo.ResNet18Cifar, 3, 10);
    }

    [Fact]
    public void Layout_of_a_model_matches_its_meta_twin()
    {
        using var real = ModelZoo.Create(ModelZoo.ResNet18Cifar, 3, 10);
        using var meta = ModelZoo.Get(ModelZoo.ResNet18Cifar).CreateMeta(3, 10);

        Assert.Equal(CheckpointLayout.Of(real).Entries, CheckpointLayout.Of(meta).Entries);
        Assert.True(meta.parameters().All(p => p.is_meta));
        Assert.Equal(new ModelDimensions(3, 10), ModelDimensions.Of(meta));
    }

    [Fact]
    public void Layout_infers_dimensions()
    {
        var layout = CheckpointReader.ReadLayout(Fixtures.TestData(Fixtures.ResNet20TrainingDict));
        Assert.Equal(new ModelDimensions(1, 10), layout.InferDimensions());
    }

    [Fact]
    public void Layout_validation_lists_missing_unexpected_shape_and_dtype_mismatches_at_once()
    {
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        var entries = CheckpointLayout.Of(model).Entries.ToDictionary(e => e.Key, e => e.Value);
        entries.Remove("fc.bias");
        entries["extra.weight"] = new TensorSpec([3], ScalarType.Float32);
        entries["conv1.weight"] = new TensorSpec([16, 3, 3, 3], ScalarType.Float32);
        entries["fc.weight"] = new TensorSpec([10, 64], ScalarType.Int8);
        var layout = new CheckpointLayout("edited", CheckpointFormat.Safetensors, entries);

        var error = Assert.Throws<CheckpointMismatchException>(() => CheckpointValidator.Validate(layout, ModelZoo.ResNet20, 1, 10));

        Assert.Equal(["fc.bias"], error.Missing);
        Assert.Equal(["extra.weight"], error.Unexpected);
        Assert.Equal("conv1.weight is [16,3,3,3], model expects [16,1,3,3]", Assert.Single(error.ShapeMismatches).ToString());
        Assert.Equal("fc.weight is Int8, model expects Float32", Assert.Single(error.DtypeMismatches).ToString());
        Assert.Equal(
            "Checkpoint does not match resnet20 (1 input channel, 10 classes): missing: fc.bias; unexpected: extra.weight; "
            + "shape mismatch: conv1.weight is [16,3,3,3], model expects [16,1,3,3]; dtype mismatch: fc.weight is Int8, model expects Float32.",
            error.Message);
    }

    [Fact]
    public void Layout_and_full_read_give_the_same_mismatch()
    {
        var path = Fixtures.TestData(Fixtures.ResNet20Plain);
        var fromLayout = Assert.Throws<CheckpointMismatchException>(() =>
            CheckpointValidator.Validate(CheckpointReader.ReadLayout(path), ModelZoo.ResNet18Cifar, 1, 10));
        using var checkpoint = CheckpointReader.Read(path);
        using var model = ModelZoo.Create(ModelZoo.ResNet18Cifar, 1, 10);
        var fromTensors = Assert.Throws<CheckpointMismatchException>(() => CheckpointValidator.Validate(checkpoint, model));

        Assert.Equal(fromTensors.Message, fromLayout.Message);
    }

    [Fact]
    public void Matching_layout_validates()
    {
        var layout = CheckpointReader.ReadLayout(Fixtures.TestData(Fixtures.ResNet20Plain));

        Assert.Null(Record.Exception(() => CheckpointValidator.Validate(layout, ModelZoo.ResNet20, 1, 10)));
    }

    [Theory]
    [InlineData(CheckpointFormat.PyTorch)]
    [InlineData(CheckpointFormat.Safetensors)]
    [InlineData(CheckpointFormat.TorchSharp)]
    public void Truncated_checkpoint_layout_is_a_format_error(CheckpointFormat format)
    {
        var bytes = File.ReadAllBytes(SaveRandomResNet20(format));
        foreach (var keep in new[] { bytes.Length - 1, bytes.Length * 2 / 3, bytes.Length / 3, 9 })
        {
            var truncated = Write($"truncated-{keep}.ckpt", bytes[..keep]);
            var error = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.ReadLayout(truncated));
            Assert.Equal(Path.GetFileName(truncated), error.SourceName);
        }
    }

    [Theory]
    [InlineData("random bytes")]
    [InlineData("zip magic then garbage")]
    [InlineData("safetensors-like header claiming too much")]
    [InlineData("text")]
    [InlineData("empty")]
    public void Foreign_content_layout_is_a_format_error(string kind)
    {
        var garbage = new byte[4096];
        new Random(7).NextBytes(garbage);
        byte[] content = kind switch
        {
            "random bytes" => garbage,
            "zip magic then garbage" => [.. "PK\x03\x04"u8, .. garbage],
            "safetensors-like header claiming too much" => [.. BitConverter.GetBytes(1_000_000UL), .. "{\"a\":1}"u8],
            "text" => "epoch,loss\n1,0.5\n2,0.4\n"u8.ToArray(),
            _ => [],
        };
        var path = Write("upload.pth", content);
        Assert.Throws<CheckpointFormatException>(() => CheckpointReader.ReadLayout(path));
    }

    [Fact]
    public void Safetensors_range_past_the_end_is_a_format_error()
    {
        var header = """{"w":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}"""u8.ToArray();
        byte[] content = [.. BitConverter.GetBytes((ulong)header.Length), .. header, .. new byte[8]];
        var error = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.ReadLayout(Write("short.safetensors", content)));
        Assert.Contains("'w'", error.Message);
    }

    [Fact]
    public void Pytorch_archive_missing_a_storage_entry_is_a_format_error()
    {
        var path = RewriteArchive(Fixtures.TestData(Fixtures.ResNet20Plain), "missing.pth", dropStorage: "/data/3");
        var error = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.ReadLayout(path));
        Assert.Contains("lacks", error.Message);
    }

    [Fact]
    public void Pytorch_archive_with_a_short_storage_entry_is_a_format_error()
    {
        var path = RewriteArchive(Fixtures.TestData(Fixtures.ResNet20Plain), "short.pth", shortenStorage: "/data/0");
        var error = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.ReadLayout(path));
        Assert.Contains("bytes", error.Message);
    }

    [Fact]
    public void Pytorch_layout_never_opens_the_storage_entries()
    {
        // Every data/N entry is present with its right size but marked with a compression method nobody can
        // decode: opening any of them throws. The layout read succeeds; the full read, which opens them, fails.
        var path = RewriteArchive(Fixtures.TestData(Fixtures.ResNet20Plain), "undecodable.pth");
        MarkStoragesUndecodable(path);

        var layout = CheckpointReader.ReadLayout(path);
        Assert.Equal(CheckpointReader.ReadLayout(Fixtures.TestData(Fixtures.ResNet20Plain)).Entries, layout.Entries);
        CheckpointValidator.Validate(layout, ModelZoo.ResNet20, 1, 10);
        Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(path).Dispose());
    }

    private static void AssertLayoutEqualsFullRead(string path, CheckpointFormat format)
    {
        var layout = CheckpointReader.ReadLayout(path);
        using var checkpoint = CheckpointReader.Read(path);

        Assert.Equal(format, layout.Format);
        Assert.Equal(Path.GetFileName(path), layout.SourceName);
        Assert.Equal(128, layout.Entries.Count);
        Assert.Equal(checkpoint.Layout.Entries.OrderBy(e => e.Key), layout.Entries.OrderBy(e => e.Key));
        Assert.Equal(ScalarType.Int64, layout.Entries["bn1.num_batches_tracked"].Dtype);
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

    // Copies a torch.save archive uncompressed, optionally without one storage entry or with one cut short.
    private string RewriteArchive(string source, string name, string? dropStorage = null, string? shortenStorage = null)
    {
        var path = Path.Combine(folder, name);
        using var input = ZipFile.OpenRead(source);
        using var output = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var entry in input.Entries)
        {
            if (dropStorage is not null && entry.FullName.EndsWith(dropStorage, StringComparison.Ordinal))
            {
                continue;
            }
            using var from = entry.Open();
            using var to = output.CreateEntry(entry.FullName, CompressionLevel.NoCompression).Open();
            if (shortenStorage is not null && entry.FullName.EndsWith(shortenStorage, StringComparison.Ordinal))
            {
                var bytes = new byte[entry.Length / 2];
                from.ReadExactly(bytes);
                to.Write(bytes);
            }
            else
            {
                from.CopyTo(to);
            }
        }
        return path;
    }

    // Sets compression method 14 (LZMA, which System.IO.Compression cannot decode) on every data/N entry, in both
    // its central-directory record and its local header; sizes and names are untouched.
    private static void MarkStoragesUndecodable(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var end = bytes.Length - 22;
        while (BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(end)) != 0x06054b50)
        {
            end--;
        }
        var count = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(end + 10));
        var record = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(end + 16));
        var marked = 0;
        for (var i = 0; i < count; i++)
        {
            Assert.Equal(0x02014b50u, BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(record)));
            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(record + 28));
            int extraLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(record + 30));
            int commentLength = BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(record + 32));
            var local = (int)BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(record + 42));
            var name = System.Text.Encoding.UTF8.GetString(bytes, record + 46, nameLength);
            if (name.Contains("/data/", StringComparison.Ordinal))
            {
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(record + 10), 14);
                BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(local + 8), 14);
                marked++;
            }
            record += 46 + nameLength + extraLength + commentLength;
        }
        Assert.True(marked > 0);
        File.WriteAllBytes(path, bytes);
    }
}
