namespace ModelOpt.Engine.Checkpoints;

/// <summary>The two sizes of a zoo model that the data decides: image channels in, classes out.</summary>
public sealed record ModelDimensions(long InputChannels, long NumClasses)
{
    private const string StemWeight = "conv1.weight";
    private const string HeadWeight = "fc.weight";

    public override string ToString() =>
        $"{InputChannels} input channel{(InputChannels == 1 ? "" : "s")}, {NumClasses} class{(NumClasses == 1 ? "" : "es")}";

    /// <summary>Reads the stem conv's in-channels (dim 1) and the classifier's out-features (dim 0).</summary>
    /// <exception cref="CheckpointFormatException">The state_dict has no 4-d <c>conv1.weight</c> or 2-d <c>fc.weight</c>.</exception>
    public static ModelDimensions Infer(IReadOnlyDictionary<string, TensorSpec> layout, string source)
    {
        if (!layout.TryGetValue(StemWeight, out var stem) || stem.Shape.Length != 4)
        {
            throw new CheckpointFormatException(source, $"no 4-d '{StemWeight}' to infer the input channels from.");
        }
        if (!layout.TryGetValue(HeadWeight, out var head) || head.Shape.Length != 2)
        {
            throw new CheckpointFormatException(source, $"no 2-d '{HeadWeight}' to infer the class count from.");
        }
        return new ModelDimensions(stem.Shape[1], head.Shape[0]);
    }

    /// <inheritdoc cref="Infer(IReadOnlyDictionary{string, TensorSpec}, string)"/>
    public static ModelDimensions Infer(IReadOnlyDictionary<string, Tensor> stateDict, string source) =>
        Infer(stateDict.ToDictionary(e => e.Key, e => TensorSpec.Of(e.Value)), source);

    /// <summary>The dimensions a built zoo model was constructed with.</summary>
    public static ModelDimensions Of(nn.Module model) => CheckpointLayout.Of(model).InferDimensions();
}
