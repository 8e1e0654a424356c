using ModelOpt.Engine.Graph;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// An ONNX model as the engine's captured graph. The graph owns its weights (read from the file's initializers);
/// <see cref="InputShape"/> is [C, H, W] from the graph input, <see cref="NumClasses"/> the output's width.
/// </summary>
public sealed class ImportedOnnxModel(ModelGraph graph, long[] inputShape, long numClasses) : IDisposable
{
    public ModelGraph Graph { get; } = graph;

    public long[] InputShape { get; } = inputShape;

    public long NumClasses { get; } = numClasses;

    public void Dispose() => Graph.Dispose();
}
