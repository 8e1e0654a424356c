using System.Buffers.Binary;
using System.IO.Compression;
using System.Text;

namespace ModelOpt.Testing;

/// <summary>
/// Checkpoint files built byte by byte the way torch.save and safetensors lay them out, honest or hostile: a pickle that
/// names a foreign global, a tensor whose shape lies about its storage, a safetensors header that lies about its data,
/// a zip bomb. Shared by the engine and service tests (linked into both projects).
/// </summary>
public static class HostileCheckpoints
{
    /// <summary>One pickled tensor: <c>_rebuild_tensor_v2(('storage', torch.{StorageType}, key, 'cpu', elements), offset, shape, stride, False, OrderedDict())</c>.</summary>
    public sealed record PickledTensor(string Name, string StorageKey, long StorageElements, long[] Shape, long[] Stride, long Offset = 0,
        string StorageType = "FloatStorage");

    /// <summary>The shape the hostile file claimed: 16x1x3x300000000 over a 144-element storage (57.6 GB if allocated).</summary>
    public static readonly long[] LyingShape = [16, 1, 3, 300_000_000];

    public static long[] Contiguous(long[] shape)
    {
        var stride = new long[shape.Length];
        long step = 1;
        for (var d = shape.Length - 1; d >= 0; d--)
        {
            stride[d] = step;
            step *= shape[d];
        }
        return stride;
    }

    /// <summary>A protocol-2 pickle of an OrderedDict of tensors, as torch.save writes a state_dict.</summary>
    public static byte[] StateDictPickle(IEnumerable<PickledTensor> tensors)
    {
        var pickle = new List<byte> { 0x80, 0x02 };
        Global(pickle, "collections", "OrderedDict");
        pickle.AddRange(")R("u8.ToArray());
        foreach (var t in tensors)
        {
            Unicode(pickle, t.Name);
            Global(pickle, "torch._utils", "_rebuild_tensor_v2");
            pickle.Add((byte)'(');
            pickle.Add((byte)'(');
            Unicode(pickle, "storage");
            Global(pickle, "torch", t.StorageType);
            Unicode(pickle, t.StorageKey);
            Unicode(pickle, "cpu");
            Int(pickle, t.StorageElements);
            pickle.Add((byte)'t');
            pickle.Add((byte)'Q');
            Int(pickle, t.Offset);
            Tuple(pickle, t.Shape);
            Tuple(pickle, t.Stride);
            pickle.Add(0x89);
            Global(pickle, "collections", "OrderedDict");
            pickle.AddRange(")Rt"u8.ToArray());
            pickle.Add((byte)'R');
        }
        pickle.AddRange("u."u8.ToArray());
        return [.. pickle];
    }

    /// <summary>A torch.save-like zip: <c>{folder}/data.pkl</c>, <c>{folder}/data/{key}</c>, <c>{folder}/version</c>.</summary>
    public static byte[] Archive(byte[] pickle, IReadOnlyDictionary<string, byte[]> storages,
        CompressionLevel compression = CompressionLevel.NoCompression, string folder = "archive")
    {
        using var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            Add(zip, $"{folder}/data.pkl", pickle, compression);
            foreach (var (key, bytes) in storages)
            {
                Add(zip, $"{folder}/data/{key}", bytes, compression);
            }
            Add(zip, $"{folder}/version", "3\n"u8.ToArray(), CompressionLevel.NoCompression);
        }
        return memory.ToArray();
    }

    /// <summary>An honest little state_dict: conv1.weight [16,1,3,3] (144 floats) and fc.bias [10].</summary>
    public static byte[] SmallPth() => Archive(
        StateDictPickle([
            new PickledTensor("conv1.weight", "0", 144, [16, 1, 3, 3], Contiguous([16, 1, 3, 3])),
            new PickledTensor("fc.bias", "1", 10, [10], [1]),
        ]),
        new Dictionary<string, byte[]> { ["0"] = Floats(144), ["1"] = Floats(10) });

    /// <summary>A pickle that calls <c>{module}.{name}("echo owned")</c> on load, as a malicious torch.save file does.</summary>
    public static byte[] ForeignGlobal(string module = "posix", string name = "system")
    {
        var pickle = new List<byte> { 0x80, 0x02 };
        Global(pickle, module, name);
        Unicode(pickle, "echo owned");
        pickle.AddRange([0x85, (byte)'R', (byte)'.']);
        return Archive([.. pickle], new Dictionary<string, byte[]>());
    }

    /// <summary>conv1.weight claims <see cref="LyingShape"/> over a storage of 144 floats (576 bytes, all the file holds).</summary>
    public static byte[] LyingShapePth(bool zeroStrides = false) => Archive(
        StateDictPickle([new PickledTensor("conv1.weight", "0", 144, LyingShape, zeroStrides ? [0, 0, 0, 0] : Contiguous(LyingShape))]),
        new Dictionary<string, byte[]> { ["0"] = Floats(144) });

    /// <summary>The storage itself claims 14.4 G elements; its entry holds 576 bytes.</summary>
    public static byte[] LyingStoragePth() => Archive(
        StateDictPickle([new PickledTensor("conv1.weight", "0", 14_400_000_000, LyingShape, Contiguous(LyingShape))]),
        new Dictionary<string, byte[]> { ["0"] = Floats(144) });

    /// <summary>A 64 MB storage of zeros deflated to ~64 kB; torch.save never compresses, so this only inflates.</summary>
    public static byte[] ZipBombPth() => Archive(
        StateDictPickle([new PickledTensor("conv1.weight", "0", 16L * 1024 * 1024, [16, 1, 3, 3], Contiguous([16, 1, 3, 3]))]),
        new Dictionary<string, byte[]> { ["0"] = new byte[64 * 1024 * 1024] }, CompressionLevel.SmallestSize);

    /// <summary>A safetensors file whose header claims <see cref="LyingShape"/> and 57.6 GB of data over 576 bytes.</summary>
    public static byte[] LyingSafetensors() => Safetensors(
        $$$"""{"conv1.weight":{"dtype":"F32","shape":[{{{string.Join(",", LyingShape)}}}],"data_offsets":[0,57600000000]}}""", 576);

    /// <summary>Two tensors claiming the same bytes: read naively, every tensor would copy the whole data again.</summary>
    public static byte[] OverlappingSafetensors() => Safetensors(
        """{"a":{"dtype":"F32","shape":[144],"data_offsets":[0,576]},"b":{"dtype":"F32","shape":[144],"data_offsets":[0,576]}}""", 576);

    public static byte[] Safetensors(string header, int dataBytes)
    {
        var json = Encoding.UTF8.GetBytes(header);
        var bytes = new byte[8 + json.Length + dataBytes];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }

    private static byte[] Floats(int count)
    {
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), i * 0.01f);
        }
        return bytes;
    }

    private static void Add(ZipArchive zip, string name, byte[] content, CompressionLevel compression)
    {
        // A fixed timestamp: the same call gives the same bytes (an entry stamped "now" made two uploads of one
        // checkpoint differ whenever they straddled the zip format's 2-second clock).
        var entry = zip.CreateEntry(name, compression);
        entry.LastWriteTime = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        using var stream = entry.Open();
        stream.Write(content);
    }

    private static void Global(List<byte> pickle, string module, string name) =>
        pickle.AddRange(Encoding.ASCII.GetBytes($"c{module}\n{name}\n"));

    private static void Unicode(List<byte> pickle, string text)
    {
        var utf8 = Encoding.UTF8.GetBytes(text);
        pickle.Add((byte)'X');
        pickle.AddRange(BitConverter.GetBytes(utf8.Length));
        pickle.AddRange(utf8);
    }

    private static void Int(List<byte> pickle, long value)
    {
        if (value is >= int.MinValue and <= int.MaxValue)
        {
            pickle.Add((byte)'J');
            pickle.AddRange(BitConverter.GetBytes((int)value));
        }
        else
        {
            pickle.AddRange([0x8a, 8]);
            pickle.AddRange(BitConverter.GetBytes(value));
        }
    }

    private static void Tuple(List<byte> pickle, long[] values)
    {
        pickle.Add((byte)'(');
        foreach (var value in values)
        {
            Int(pickle, value);
        }
        pickle.Add((byte)'t');
    }
}
