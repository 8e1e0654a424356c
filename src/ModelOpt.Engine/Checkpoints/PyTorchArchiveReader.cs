using System.IO.Compression;
using ModelOpt.Engine.Checkpoints.Pickle;

namespace ModelOpt.Engine.Checkpoints;

/// <summary>
/// Opens a <c>torch.save</c> archive and checks everything about it before any tensor data is read: its pickle through
/// the <see cref="RestrictedUnpickler"/> (only the globals <c>torch.load(weights_only=True)</c> allows), the state_dict in it,
/// and every tensor's storage against the archive (the entry exists and holds the bytes, the view lies inside it, the
/// view is no larger than its storage). What the archive would expand to is bounded by its own size, so neither a zip
/// bomb nor a lying shape can make a reader allocate more than the file holds. The layout read stops here; the full
/// read (<see cref="PyTorchCheckpointReader"/>) then reads only the storages this has checked.
/// </summary>
internal sealed class PyTorchArchiveReader : IDisposable
{
    // data.pkl holds names, shapes and small Python values; a larger one is not a checkpoint we accept.
    private const long MaxPickleBytes = 64L * 1024 * 1024;

    // torch.save stores entries uncompressed; TorchSharp.PyBridge deflates them, and float weights deflate to ~90 %.
    // Nothing honest expands four times over; a zip bomb expands a thousand times.
    private const long MaxExpansion = 4;

    // The keys under which training loops conventionally store the model's weights.
    private static readonly string[] NestedStateDictKeys = ["model_state_dict", "state_dict"];

    private readonly ZipArchive archive;
    private readonly string storagePrefix;
    private readonly string source;

    private PyTorchArchiveReader(ZipArchive archive, string storagePrefix, Dictionary<string, PickledTensor> tensors, string source)
    {
        this.archive = archive;
        this.storagePrefix = storagePrefix;
        this.source = source;
        Tensors = tensors;
    }

    /// <summary>The state_dict's tensors by name, every one checked against its storage.</summary>
    public IReadOnlyDictionary<string, PickledTensor> Tensors { get; }

    public Dictionary<string, TensorSpec> Layout => Tensors.ToDictionary(e => e.Key, e => e.Value.Spec);

    /// <exception cref="CheckpointFormatException">The archive is damaged, foreign, hostile or holds no state_dict.</exception>
    public static PyTorchArchiveReader Open(Stream stream, string source)
    {
        var archiveBytes = stream.Length - stream.Position;
        ZipArchive? archive = null;
        try
        {
            archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var pickle = archive.Entries.FirstOrDefault(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal))
                ?? throw new CheckpointFormatException(source, "the zip archive has no data.pkl: it is not a torch.save checkpoint.");
            var prefix = pickle.FullName[..^"data.pkl".Length];
            if (pickle.Length > Math.Min(MaxPickleBytes, archiveBytes * MaxExpansion))
            {
                throw new CheckpointFormatException(source,
                    $"its data.pkl claims {pickle.Length} bytes, more than {MaxExpansion} times the archive's {archiveBytes} or a state_dict's pickle ({MaxPickleBytes}).");
            }
            CheckByteOrder(archive.GetEntry(prefix + "byteorder"), source);
            var root = RestrictedUnpickler.Load(ReadExactly(pickle, (int)pickle.Length), source);
            var tensors = SelectStateDict(root, source);
            CheckStorages(archive, prefix + "data/", tensors, archiveBytes * MaxExpansion - pickle.Length, source);
            return new PyTorchArchiveReader(archive, prefix + "data/", tensors, source);
        }
        catch (Exception e)
        {
            archive?.Dispose();
            throw e switch
            {
                CheckpointFormatException or OutOfMemoryException => e,
                InvalidDataException or EndOfStreamException => new CheckpointFormatException(source, "the zip archive is damaged or truncated.", e),
                _ => new CheckpointFormatException(source, "the zip archive is damaged.", e),
            };
        }
    }

    /// <summary>The bytes of a storage <see cref="Open"/> has checked: exactly its element count, never more.</summary>
    /// <exception cref="CheckpointFormatException">The entry cannot be decoded or ends early.</exception>
    public byte[] ReadStorage(PickledStorage storage)
    {
        TensorLayout.TryElementSize(storage.Dtype, out var elementSize);
        try
        {
            return ReadExactly(archive.GetEntry(storagePrefix + storage.Key)!, checked((int)(storage.ElementCount * elementSize)));
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or OverflowException or NotSupportedException)
        {
            throw new CheckpointFormatException(source, $"storage '{storage.Key}' cannot be read: its entry is damaged, truncated or too large.", e);
        }
    }

    public void Dispose() => archive.Dispose();

    private static byte[] ReadExactly(ZipArchiveEntry entry, int length)
    {
        var bytes = new byte[length];
        using var content = entry.Open();
        content.ReadExactly(bytes);
        return bytes;
    }

    private static void CheckByteOrder(ZipArchiveEntry? entry, string source)
    {
        if (entry is null)
        {
            return;
        }
        if (entry.Length > 16)
        {
            throw new CheckpointFormatException(source, $"its byteorder entry claims {entry.Length} bytes.");
        }
        var order = System.Text.Encoding.ASCII.GetString(ReadExactly(entry, (int)entry.Length)).Trim();
        if (order != "little")
        {
            throw new CheckpointFormatException(source, $"it was saved with byte order '{order}'; only little-endian checkpoints are read.");
        }
    }

    /// <summary>
    /// The state_dict in the unpickled root: the root itself, or the dict under one of the conventional keys.
    /// Every value must be a tensor.
    /// </summary>
    private static Dictionary<string, PickledTensor> SelectStateDict(object? root, string source)
    {
        if (root is not PickleDict rootDict)
        {
            throw new CheckpointFormatException(source, $"it holds no state_dict: the pickle is a {RestrictedUnpickler.Describe(root)}, not a dict.");
        }
        var table = NestedStateDictKeys.Select(k => rootDict.GetValueOrDefault(k)).OfType<PickleDict>().FirstOrDefault() ?? rootDict;
        var result = new Dictionary<string, PickledTensor>(table.Count);
        var notTensors = new List<string>();
        foreach (var (key, value) in table)
        {
            if (key is string name && value is PickledTensor tensor)
            {
                result.Add(name, tensor);
            }
            else
            {
                notTensors.Add($"{(key == PickleDict.NoneKey ? "None" : key)} ({RestrictedUnpickler.Describe(value)})");
            }
        }
        if (notTensors.Count > 0 || result.Count == 0)
        {
            throw new CheckpointFormatException(source,
                "it holds no state_dict: expected tensors by name, or a dict with 'model_state_dict' or 'state_dict'"
                + (notTensors.Count > 0 ? $"; found {ListSummary.Of(notTensors.Order())}." : "; it is empty."));
        }
        return result;
    }

    // Every view inside its storage, every storage inside its entry, and all of it inside the archive's own bytes.
    private static void CheckStorages(ZipArchive archive, string prefix, Dictionary<string, PickledTensor> tensors, long storageBytesAvailable, string source)
    {
        var storages = new Dictionary<string, PickledStorage>();
        long storageBytes = 0;
        long tensorBytes = 0;
        foreach (var (key, tensor) in tensors)
        {
            var storage = tensor.Storage;
            if (!TensorLayout.TryElementSize(storage.Dtype, out var elementSize))
            {
                throw new CheckpointFormatException(source, $"tensor '{key}' has unsupported dtype {storage.Dtype}.");
            }
            var needed = TensorLayout.ByteCount([storage.ElementCount], storage.Dtype);
            if (storages.TryGetValue(storage.Key, out var seen))
            {
                if (seen != storage)
                {
                    throw new CheckpointFormatException(source, $"tensor '{key}' describes storage '{storage.Key}' differently from another tensor.");
                }
            }
            else
            {
                var entry = archive.GetEntry(prefix + storage.Key)
                    ?? throw new CheckpointFormatException(source, $"tensor '{key}' needs storage '{prefix}{storage.Key}', which the archive lacks (truncated?).");
                if (needed < 0 || entry.Length < needed)
                {
                    throw new CheckpointFormatException(source,
                        $"tensor '{key}': storage '{storage.Key}' should hold {storage.ElementCount} {storage.Dtype} elements ({needed} bytes) but has {entry.Length} bytes.");
                }
                storages.Add(storage.Key, storage);
                storageBytes += needed;
            }
            var elements = ViewElements(tensor);
            if (elements < 0 || elements > storage.ElementCount || !FitsIn(tensor, storage.ElementCount))
            {
                throw new CheckpointFormatException(source,
                    $"tensor '{key}' ({ShapeMismatch.Format(tensor.Shape)}, offset {tensor.Offset}) reaches past its storage of {storage.ElementCount} elements.");
            }
            tensorBytes += elements * elementSize;
        }
        // Uncompressed sizes are claims: what honest entries expand to stays within a few times the archive.
        if (storageBytes > storageBytesAvailable || tensorBytes > storageBytesAvailable)
        {
            throw new CheckpointFormatException(source,
                $"its tensors would take {Math.Max(storageBytes, tensorBytes)} bytes, more than {MaxExpansion} times the archive's size allows "
                + $"({storageBytesAvailable} bytes): it is a zip bomb, or tensors share storage many times over.");
        }
    }

    private static long ViewElements(PickledTensor tensor)
    {
        if (tensor.Shape.Length > TensorLayout.MaxDimensions || tensor.Shape.Any(d => d < 0))
        {
            return -1;
        }
        try
        {
            return tensor.Shape.Aggregate(1L, (n, d) => checked(n * d));
        }
        catch (OverflowException)
        {
            return -1;
        }
    }

    private static bool FitsIn(PickledTensor tensor, long storageElements)
    {
        if (tensor.Offset < 0 || tensor.Shape.Length != tensor.Stride.Length || tensor.Stride.Any(s => s < 0))
        {
            return false;
        }
        if (tensor.Shape.Contains(0))
        {
            return tensor.Offset <= storageElements;
        }
        try
        {
            var last = tensor.Offset;
            for (var d = 0; d < tensor.Shape.Length; d++)
            {
                last = checked(last + (tensor.Shape[d] - 1) * tensor.Stride[d]);
            }
            return last < storageElements;
        }
        catch (OverflowException)
        {
            return false;
        }
    }
}
