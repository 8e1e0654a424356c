namespace ModelOpt.Engine.Checkpoints;

/// <summary>
/// Reads a <c>torch.save</c> zip archive (a plain state_dict or a training-checkpoint dict that holds one) into tensors,
/// after <see cref="PyTorchArchiveReader"/> has checked the pickle and every storage: only checked storages are read,
/// and each is allocated at the size its entry holds.
/// </summary>
internal static class PyTorchCheckpointReader
{
    public static Dictionary<string, Tensor> Read(Stream stream, string source)
    {
        using var archive = PyTorchArchiveReader.Open(stream, source);
        // The storages stay in this scope; each tensor is a copy of its view, detached before the scope ends.
        using var scope = NewDisposeScope();
        var storages = new Dictionary<string, Tensor>();
        var result = new Dictionary<string, Tensor>(archive.Tensors.Count);
        foreach (var (key, tensor) in archive.Tensors)
        {
            var storage = tensor.Storage;
            if (!storages.TryGetValue(storage.Key, out var data))
            {
                data = TensorLayout.FromBytes(archive.ReadStorage(storage), [storage.ElementCount], storage.Dtype);
                storages.Add(storage.Key, data);
            }
            result.Add(key, data.as_strided(tensor.Shape, tensor.Stride, tensor.Offset).clone());
        }
        foreach (var tensor in result.Values)
        {
            tensor.DetachFromDisposeScope();
        }
        return result;
    }
}
