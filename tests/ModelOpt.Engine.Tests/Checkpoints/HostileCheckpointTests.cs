using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Models;
using ModelOpt.Testing;

namespace ModelOpt.Engine.Tests.Checkpoints;

/// <summary>
/// The hostile files of issue 11 through both reads (the layout read every upload gets, and the full read the worker does):
/// each is refused with a <see cref="CheckpointFormatException"/> that says what is wrong, before anything is allocated for it.
/// </summary>
public sealed class HostileCheckpointTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("modelopt-hostile-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    public static TheoryData<string, string> Hostile => new()
    {
        { "foreign-global.pth", "'posix.system'" },
        { "builtins-eval.pth", "'builtins.eval'" },
        { "lying-shape.pth", "reaches past its storage of 144 elements" },
        { "lying-shape-zero-strides.pth", "reaches past its storage of 144 elements" },
        { "lying-storage.pth", "should hold 14400000000 Float32 elements" },
        { "zip-bomb.pth", "it is a zip bomb" },
        { "lying-header.safetensors", "needs 57600000000" },
        { "overlapping.safetensors", "overlap" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void Hostile_file_is_refused_by_the_layout_read_and_the_full_read(string name, string reason)
    {
        var path = Write(name);

        var fromLayout = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.ReadLayout(path));
        var fromFullRead = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(path).Dispose());
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        var fromLoader = Assert.Throws<CheckpointFormatException>(() => CheckpointLoader.LoadInto(model, path));

        foreach (var error in new[] { fromLayout, fromFullRead, fromLoader })
        {
            Assert.Contains(reason, error.Message);
            Assert.StartsWith($"'{name}' is not a readable checkpoint", error.Message);
            Assert.DoesNotContain(folder, error.Message);
        }
    }

    [Fact]
    public void Hostile_file_allocates_no_more_than_it_holds()
    {
        foreach (var name in Hostile.Select(row => (string)row[0]))
        {
            var path = Write(name);
            var before = GC.GetAllocatedBytesForCurrentThread();
            Assert.Throws<CheckpointFormatException>(() => CheckpointReader.Read(path).Dispose());
            var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
            Assert.True(allocated < new FileInfo(path).Length + 1024 * 1024, $"{name}: {allocated} bytes allocated for a {new FileInfo(path).Length}-byte file");
        }
    }

    [Fact]
    public void Honest_hand_built_archive_is_read_with_its_values()
    {
        using var checkpoint = CheckpointReader.Read(Write("small.pth"));

        Assert.Equal(CheckpointFormat.PyTorch, checkpoint.Format);
        Assert.Equal([16L, 1, 3, 3], checkpoint.Tensors["conv1.weight"].shape);
        Assert.Equal(1.43f, checkpoint.Tensors["conv1.weight"].reshape(-1)[143].item<float>(), 5);
        Assert.Equal(0.09f, checkpoint.Tensors["fc.bias"][9].item<float>(), 5);
    }

    [Fact]
    public void Transposed_view_is_read_as_pytorch_would_give_it()
    {
        // A [3,2] view with strides (1,3) over a 6-element storage: torch.save keeps non-contiguous views as they are.
        var pickle = HostileCheckpoints.StateDictPickle([new HostileCheckpoints.PickledTensor("w", "0", 6, [3, 2], [1, 3])]);
        var bytes = HostileCheckpoints.Archive(pickle, new Dictionary<string, byte[]> { ["0"] = [.. new float[] { 0, 1, 2, 3, 4, 5 }.SelectMany(BitConverter.GetBytes)] });
        var path = Path.Combine(folder, "transposed.pth");
        File.WriteAllBytes(path, bytes);

        using var checkpoint = CheckpointReader.Read(path);

        Assert.Equal(new float[] { 0, 3, 1, 4, 2, 5 }, checkpoint.Tensors["w"].data<float>().ToArray());
    }

    [Fact]
    public void Legacy_pickle_file_is_refused_with_how_to_resave_it()
    {
        var path = Path.Combine(folder, "legacy.pth");
        File.WriteAllBytes(path, [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, (byte)'.']);

        var error = Assert.Throws<CheckpointFormatException>(() => CheckpointReader.ReadLayout(path));
        Assert.Contains("legacy (pre-1.6)", error.Message);
    }

    [Fact]
    public void Long_lists_in_a_mismatch_are_summarized_and_kept_whole_for_the_log()
    {
        var path = Fixtures.TestData(Fixtures.ResNet20Plain);

        var error = Assert.Throws<CheckpointMismatchException>(() => CheckpointValidator.Validate(CheckpointReader.ReadLayout(path), ModelZoo.ResNet18Cifar, 1, 10));

        Assert.Contains("more (", error.Message);
        Assert.True(error.Message.Length < 2500, $"{error.Message.Length} characters: {error.Message}");
        Assert.True(error.FullReport.Length > error.Message.Length);
        Assert.All(error.Missing, key => Assert.Contains(key, error.FullReport));
    }

    private string Write(string name)
    {
        byte[] content = name switch
        {
            "foreign-global.pth" => HostileCheckpoints.ForeignGlobal(),
            "builtins-eval.pth" => HostileCheckpoints.ForeignGlobal("builtins", "eval"),
            "lying-shape.pth" => HostileCheckpoints.LyingShapePth(),
            "lying-shape-zero-strides.pth" => HostileCheckpoints.LyingShapePth(zeroStrides: true),
            "lying-storage.pth" => HostileCheckpoints.LyingStoragePth(),
            "zip-bomb.pth" => HostileCheckpoints.ZipBombPth(),
            "lying-header.safetensors" => HostileCheckpoints.LyingSafetensors(),
            "overlapping.safetensors" => HostileCheckpoints.OverlappingSafetensors(),
            "small.pth" => HostileCheckpoints.SmallPth(),
            _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
        };
        var path = Path.Combine(folder, name);
        File.WriteAllBytes(path, content);
        return path;
    }
}
