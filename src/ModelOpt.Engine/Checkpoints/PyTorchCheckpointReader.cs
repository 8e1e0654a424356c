using System.Collections;
using TorchSharp.PyBridge;

namespace ModelOpt.Engine.Checkpoints;

/// <summary>Reads a <c>torch.save</c> zip archive: a plain state_dict or a training-checkpoint dict that holds one.</summary>
internal static class PyTorchCheckpointReader
{
    // The keys under which training loops conventionally store the model's weights.
    private static readonly string[] NestedStateDictKeys = ["model_state_dict", "state_dict"];

    public static Dictionary<string, Tensor> Read(Stream stream, string source)
    {
        // Every tensor the unpickler creates (optimizer buffers included) lands in this scope;
        // only the chosen state_dict's tensors are detached from it, the rest are freed here.
        using var scope = NewDisposeScope();
        Hashtable root;
        try
        {
            root = PyTorchUnpickler.UnpickleStateDict(stream, leaveOpen: true);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            throw new CheckpointFormatException(source, $"the PyTorch archive could not be read ({e.GetType().Name}: {e.Message}).", e);
        }

        var result = SelectStateDict<Tensor>(root, source);
        foreach (var tensor in result.Values)
        {
            tensor.DetachFromDisposeScope();
        }
        return result;
    }

    /// <summary>
    /// The state_dict in an unpickled root: the root itself, or the dict under one of the conventional keys.
    /// Every value must be a <typeparamref name="T"/> (a tensor, or its layout for the layout read).
    /// </summary>
    public static Dictionary<string, T> SelectStateDict<T>(Hashtable root, string source)
    {
        var table = NestedStateDictKeys.Select(k => root[k]).OfType<Hashtable>().FirstOrDefault() ?? root;
        var result = new Dictionary<string, T>(table.Count);
        var notTensors = new List<string>();
        foreach (DictionaryEntry entry in table)
        {
            if (entry is { Key: string key, Value: T value })
            {
                result.Add(key, value);
            }
            else
            {
                notTensors.Add($"{entry.Key} ({(entry.Value is null ? "None" : TypeName(entry.Value))})");
            }
        }
        if (notTensors.Count > 0 || result.Count == 0)
        {
            throw new CheckpointFormatException(source,
                "it holds no state_dict: expected tensors by name, or a dict with 'model_state_dict' or 'state_dict'"
                + (notTensors.Count > 0 ? $"; found {string.Join(", ", notTensors.Order())}." : "; it is empty."));
        }
        return result;
    }

    // The layout read's tensor placeholders are named as the full read's tensors would be.
    private static string TypeName(object value) => value is PyTorchLayoutReader.PickledTensor ? nameof(Tensor) : value.GetType().Name;
}
