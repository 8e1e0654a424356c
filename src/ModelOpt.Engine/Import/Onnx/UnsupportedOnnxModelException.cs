namespace ModelOpt.Engine.Import.Onnx;

/// <summary>The ONNX model is well-formed but uses ops (or op settings) ModelOpt does not map; every such node is listed.</summary>
public sealed class UnsupportedOnnxModelException(string sourceName, IReadOnlyList<UnsupportedOnnxNode> nodes)
    : Exception(Format(sourceName, nodes))
{
    public IReadOnlyList<UnsupportedOnnxNode> Nodes { get; } = nodes;

    /// <summary>The distinct op types of <see cref="Nodes"/>, in order of first appearance.</summary>
    public IReadOnlyList<string> OpTypes => Nodes.Select(n => n.OpType).Distinct().ToList();

    private static string Format(string sourceName, IReadOnlyList<UnsupportedOnnxNode> nodes) =>
        $"'{sourceName}' uses ONNX ops ModelOpt cannot map ({string.Join(", ", nodes.Select(n => n.OpType).Distinct())}). " +
        string.Join(" ", nodes.Take(20).Select(n => $"{n.OpType} node '{n.NodeName}': {n.Reason}")) +
        (nodes.Count > 20 ? $" And {nodes.Count - 20} more nodes." : "");
}
