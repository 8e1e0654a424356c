using System.Collections;
using System.IO.Compression;
using System.Runtime.CompilerServices;
using Razorvine.Pickle;
using Razorvine.Pickle.Objects;
using TorchSharp.PyBridge;

namespace ModelOpt.Engine.Checkpoints;

/// <summary>
/// Reads a <c>torch.save</c> archive's layout from its <c>data.pkl</c> alone: the tensors' storages (the
/// <c>data/N</c> entries) are never opened, only their sizes in the zip's central directory are checked against
/// what the pickle says the tensors need, so a damaged archive is still rejected.
/// </summary>
internal static class PyTorchLayoutReader
{
    // data.pkl holds names, shapes and small Python values; a larger one is not a checkpoint we accept.
    private const long MaxPickleBytes = 64L * 1024 * 1024;

    /// <summary>A <c>persistent_load</c> storage reference: <c>('storage', torch.FloatStorage, key, location, numel)</c>.</summary>
    internal sealed record StorageRef(string Key, ScalarType Dtype, long ElementCount);

    /// <summary>What <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)</c> stands for, without the data.</summary>
    internal sealed record PickledTensor(StorageRef Storage, long Offset, long[] Shape, long[] Stride)
    {
        public TensorSpec Spec => new(Shape, Storage.Dtype);
    }

    public static Dictionary<string, TensorSpec> Read(Stream stream, string source)
    {
        try
        {
            using var archive = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            var pickle = archive.Entries.FirstOrDefault(e => e.FullName == "data.pkl" || e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal))
                ?? throw new CheckpointFormatException(source, "the zip archive has no data.pkl: it is not a torch.save checkpoint.");
            if (pickle.Length > MaxPickleBytes)
            {
                throw new CheckpointFormatException(source, $"its data.pkl is {pickle.Length} bytes, more than a state_dict's pickle ({MaxPickleBytes}).");
            }
            object root;
            using (var unpickler = new LayoutUnpickler())
            using (var pickled = pickle.Open())
            {
                root = unpickler.load(pickled);
            }
            if (root is not Hashtable table)
            {
                throw new CheckpointFormatException(source, $"it holds no state_dict: the pickle is a {root?.GetType().Name ?? "None"}, not a dict.");
            }
            var tensors = PyTorchCheckpointReader.SelectStateDict<PickledTensor>(table, source);
            var storagePrefix = pickle.FullName[..^"data.pkl".Length] + "data/";
            foreach (var (key, tensor) in tensors)
            {
                CheckStorage(archive, storagePrefix, key, tensor, source);
            }
            return tensors.ToDictionary(e => e.Key, e => e.Value.Spec);
        }
        catch (Exception e) when (e is not (CheckpointFormatException or OutOfMemoryException))
        {
            throw new CheckpointFormatException(source, $"the PyTorch archive could not be read ({e.GetType().Name}: {e.Message}).", e);
        }
    }

    // The tensor's view must lie inside its storage, and the storage entry must hold that many bytes.
    private static void CheckStorage(ZipArchive archive, string prefix, string key, PickledTensor tensor, string source)
    {
        var storage = tensor.Storage;
        if (!TensorLayout.TryElementSize(storage.Dtype, out var elementSize))
        {
            throw new CheckpointFormatException(source, $"tensor '{key}' has unsupported dtype {storage.Dtype}.");
        }
        var entry = archive.GetEntry(prefix + storage.Key)
            ?? throw new CheckpointFormatException(source, $"tensor '{key}' needs storage '{prefix}{storage.Key}', which the archive lacks (truncated?).");
        long needed;
        try
        {
            needed = checked(storage.ElementCount * elementSize);
        }
        catch (OverflowException)
        {
            needed = -1;
        }
        if (storage.ElementCount < 0 || needed < 0 || entry.Length < needed)
        {
            throw new CheckpointFormatException(source,
                $"tensor '{key}': storage '{storage.Key}' should hold {storage.ElementCount} {storage.Dtype} elements ({needed} bytes) but has {entry.Length} bytes.");
        }
        if (!FitsIn(tensor, storage.ElementCount))
        {
            throw new CheckpointFormatException(source,
                $"tensor '{key}' ({ShapeMismatch.Format(tensor.Shape)}, offset {tensor.Offset}) reaches past its storage of {storage.ElementCount} elements.");
        }
    }

    private static bool FitsIn(PickledTensor tensor, long storageElements)
    {
        if (tensor.Offset < 0 || tensor.Shape.Length != tensor.Stride.Length || tensor.Shape.Length > TensorLayout.MaxDimensions
            || tensor.Shape.Any(d => d < 0) || tensor.Stride.Any(s => s < 0))
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

    /// <summary>
    /// An unpickler whose storages are <see cref="StorageRef"/>s and whose tensors are <see cref="PickledTensor"/>s.
    /// Razorvine's constructor registry is process-wide and TorchSharp.PyBridge registers its own tensor
    /// constructors there; ours wrap PyBridge's and take over only when handed one of our storage references,
    /// so both readers work side by side.
    /// </summary>
    private sealed class LayoutUnpickler : Unpickler
    {
        static LayoutUnpickler()
        {
            // PyBridge registers its constructors in its static constructor; run it first so it cannot overwrite ours later.
            RuntimeHelpers.RunClassConstructor(typeof(PyTorchUnpickler).TypeHandle);
            foreach (var name in new[] { "_rebuild_tensor", "_rebuild_tensor_v2" })
            {
                objectConstructors.TryGetValue("torch._utils." + name, out var pyBridge);
                registerConstructor("torch._utils", name, new RebuildTensor(pyBridge));
            }
        }

        protected override object persistentLoad(object pid)
        {
            // torch.save's persistent id: ('storage', storage class, key, location, element count).
            if (pid is not object[] { Length: 5 } id || id[0] is not "storage" || id[1] is not ClassDictConstructor storageClass || id[2] is not string key)
            {
                throw new PickleException($"unknown persistent id {pid}");
            }
            return new StorageRef(key, DtypeOfStorage(storageClass.name), Convert.ToInt64(id[4]));
        }

        private static ScalarType DtypeOfStorage(string storage) => storage switch
        {
            "DoubleStorage" => ScalarType.Float64,
            "FloatStorage" => ScalarType.Float32,
            "HalfStorage" => ScalarType.Float16,
            "BFloat16Storage" => ScalarType.BFloat16,
            "LongStorage" => ScalarType.Int64,
            "IntStorage" => ScalarType.Int32,
            "ShortStorage" => ScalarType.Int16,
            "CharStorage" => ScalarType.Int8,
            "ByteStorage" => ScalarType.Byte,
            "BoolStorage" => ScalarType.Bool,
            "ComplexFloatStorage" => ScalarType.ComplexFloat32,
            "ComplexDoubleStorage" => ScalarType.ComplexFloat64,
            _ => throw new PickleException($"unsupported storage type {storage}"),
        };
    }

    /// <summary><c>_rebuild_tensor[_v2](storage, storage_offset, size, stride, ...)</c> for a <see cref="StorageRef"/>; anything else goes to PyBridge's.</summary>
    private sealed class RebuildTensor(IObjectConstructor? fallback) : IObjectConstructor
    {
        public object construct(object[] args)
        {
            if (args is not [StorageRef storage, var offset, object[] size, object[] stride, ..])
            {
                return fallback?.construct(args) ?? throw new PickleException("torch._utils._rebuild_tensor without a storage reference");
            }
            return new PickledTensor(storage, Convert.ToInt64(offset), [.. size.Select(Convert.ToInt64)], [.. stride.Select(Convert.ToInt64)]);
        }
    }
}
