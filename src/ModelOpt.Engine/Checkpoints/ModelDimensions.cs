namespace ModelOpt.Engine.Checkpoints;

/// <summary>The two sizes of a zoo model that the data decides: image channels in, classes out.</summary>
public sealed record ModelDimensions(long InputChannels, long NumClasses)
{
    // torchvision's ResNets, then its MobileNetV2.
    private static readonly string[] StemWeights = ["conv1.weight", "features.0.0.weight"];
    private static readonly string[] HeadWeights = ["fc.weight", "classifier.1.weight"];

    public override string ToString() =>
        $"{InputChannels} input channel{(InputChannels == 1 ? "" : "s")}, {NumClasses} class{(NumClasses == 1 ? "" : "es")}";

    /// <summary>Reads the stem conv's in-channels (dim 1) and the classifier's out-features (dim 0).</summary>
    /// <exception cref="CheckpointFormatException">The state_dict has no 4-d stem weight (<c>conv1.weight</c>, <c>features.0.0.weight</c>)
    /// or 2-d classifier weight (<c>fc.weight</c>, <c>classifier.1.weight</c>).</exception>
    public static ModelDimensions Infer(IReadOnlyDictionary<string, TensorSpec> layout, string source)
    {
        var stem = StemWeights.Select(k => layout.GetValueOrDefault(k)).FirstOrDefault(t => t?.Shape.Length == 4)
            ?? throw new CheckpointFormatException(source, $"no 4-d '{StemWeights[0]}' to infer the input channels from.");
        var head = HeadWeights.Select(k => layout.GetValueOrDefault(k)).FirstOrDefault(t => t?.Shape.Length == 2)
            ?? throw new CheckpointFormatException(source, $"no 2-d '{HeadWeights[0]}' to infer the class count from.");
        return new ModelDimensions(stem.Shape[1], head.Shape[0]);
    }

    /// <inheritdoc cref="Infer(IReadOnlyDictionary{string, TensorSpec}, string)"/>
    public static ModelDimensions Infer(IReadOnlyDictionary<string, Tensor> stateDict, string source) =>
        Infer(stateDict.ToDictionary(e => e.Key, e => TensorSpec.Of(e.Value)), source);

    /// <summary>The dimensions a built zoo model was constructed with.</summary>
    public static ModelDimensions Of(nn.Module model) => CheckpointLayout.Of(model).InferDimensions();
}
