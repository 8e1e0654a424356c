namespace ModelOpt.Engine.Checkpoints;

/// <summary>
/// Tensors read from a checkpoint, keyed by state_dict name, independent of any model. It owns the
/// tensors: dispose it once they have been copied or inspected.
/// </summary>
public sealed class StateDict : IDisposable
{
    private readonly Dictionary<string, Tensor> tensors;

    internal StateDict(string source, CheckpointFormat format, Dictionary<string, Tensor> tensors)
    {
        SourceName = source;
        Format = format;
        this.tensors = tensors;
    }

    /// <summary>The file path or upload name it was read from.</summary>
    public string SourceName { get; }

    public CheckpointFormat Format { get; }

    public IReadOnlyDictionary<string, Tensor> Tensors => tensors;

    /// <summary>Input channels and classes implied by <c>conv1.weight</c> and <c>fc.weight</c>.</summary>
    public ModelDimensions InferDimensions() => Layout.InferDimensions();

    /// <summary>The entries' names, shapes and dtypes, as <see cref="CheckpointReader.ReadLayout(string)"/> reads them from the file.</summary>
    public CheckpointLayout Layout => new(SourceName, Format, tensors.ToDictionary(e => e.Key, e => TensorSpec.Of(e.Value)));

    public void Dispose()
    {
        foreach (var tensor in tensors.Values)
        {
            tensor.Dispose();
        }
        tensors.Clear();
    }
}
