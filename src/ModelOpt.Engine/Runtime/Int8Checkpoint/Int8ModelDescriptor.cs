namespace ModelOpt.Engine.Runtime.Int8Checkpoint;

/// <summary>
/// What is needed to rebuild an int8 model's graph: the zoo architecture, the input shape [C, H, W] and the classes
/// (0 for a generic job's model, whose output is not class logits: ADR-020), and, for an ONNX model, the graph output it
/// was built for (null: the first).
/// </summary>
public sealed record Int8ModelDescriptor(string ModelName, long[] InputShape, long NumClasses, IReadOnlyList<string>? ClassNames = null, string? OutputName = null)
{
    /// <summary>The logits' width the rebuilt model must give; null for a generic model (any output shape).</summary>
    public long? LogitsWidth => NumClasses == 0 ? null : NumClasses;

    /// <summary>The capture shape, batch of one.</summary>
    public long[] BatchShape => [1, .. InputShape];
}
