using ModelOpt.Engine.Graph;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// An ONNX model as the engine's captured graph. The graph owns its weights (read from the file's initializers);
/// <see cref="InputShape"/> is [C, H, W] from the graph input, <see cref="OutputShapes"/> each output's shape after the
/// batch axis ([classes] for logits), in the order of <see cref="ModelGraph.OutputNames"/>.
/// </summary>
public sealed class ImportedOnnxModel(ModelGraph graph, long[] inputShape, IReadOnlyList<long[]> outputShapes, string? outputName = null) : IDisposable
{
    /// <summary>The graph output the model was imported for; null where it was imported for every output.</summary>
    public string? OutputName { get; } = outputName;

    public ModelGraph Graph { get; } = graph;

    public long[] InputShape { get; } = inputShape;

    /// <summary>The first output's shape after the batch axis.</summary>
    public long[] OutputShape => OutputShapes[0];

    public IReadOnlyList<long[]> OutputShapes { get; } = outputShapes;

    /// <summary>The logits' width; only a classifier's import (no <see cref="OnnxImportOptions.AnyOutputShape"/>) has one.</summary>
    public long NumClasses => OutputShape is [var classes] ? classes
        : throw new InvalidOperationException($"The model's output is [N, {string.Join(", ", OutputShape)}], not (N, classes) logits.");

    public void Dispose() => Graph.Dispose();
}
