namespace ModelOpt.Engine.Runtime.Int8Checkpoint;

/// <summary>What is needed to rebuild an int8 model's graph: the zoo architecture, the input shape [C, H, W] and the classes.</summary>
/// <param name="OutputName">The ONNX graph output the model was quantized for; null for the first (and for zoo models).</param>
public sealed record Int8ModelDescriptor(
    string ModelName, long[] InputShape, long NumClasses, IReadOnlyList<string>? ClassNames = null, string? OutputName = null)
{
    /// <summary>The capture shape, batch of one.</summary>
    public long[] BatchShape => [1, .. InputShape];
}
