namespace ModelOpt.Engine.Checkpoints;

/// <summary>
/// A checkpoint's entries by state_dict name, shape and dtype only, read without its tensor data (see
/// <see cref="CheckpointReader.ReadLayout(string)"/>) or taken from a <see cref="StateDict"/> or a model.
/// Enough to check a checkpoint against an architecture at a few kilobytes whatever the checkpoint's size.
/// </summary>
public sealed class CheckpointLayout
{
    private readonly Dictionary<string, TensorSpec> entries;

    public CheckpointLayout(string source, CheckpointFormat? format, Dictionary<string, TensorSpec> entries)
    {
        SourceName = source;
        Format = format;
        this.entries = entries;
    }

    /// <summary>The file path or upload name it was read from, or the model it was taken from.</summary>
    public string SourceName { get; }

    /// <summary>The file's format; null for a model's layout.</summary>
    public CheckpointFormat? Format { get; }

    public IReadOnlyDictionary<string, TensorSpec> Entries => entries;

    /// <summary>Input channels and classes implied by <c>conv1.weight</c> and <c>fc.weight</c>.</summary>
    public ModelDimensions InferDimensions() => ModelDimensions.Infer(entries, SourceName);

    /// <summary>The names, shapes and dtypes of a model's own state_dict, in its order.</summary>
    public static CheckpointLayout Of(nn.Module model) =>
        new(model.GetName(), null, model.state_dict().ToDictionary(e => e.Key, e => TensorSpec.Of(e.Value)));
}
