namespace ModelOpt.Engine.Import.Onnx;

/// <summary>The ONNX model is well-formed but uses ops (or op settings) ModelOpt does not map; every such node is listed.</summary>
public sealed class UnsupportedOnnxModelException(string sourceName, IReadOnlyList<UnsupportedOnnxNode> nodes)
    : Exception(Format(sourceName, nodes))
{
    public IReadOnlyList<UnsupportedOnnxNode> Nodes { get; } = nodes;

    /// <summary>The distinct op types of the nodes at fault, in order of first appearance (none for a problem of the input, output or opset).</summary>
    public IReadOnlyList<string> OpTypes => Nodes.Where(n => n.IsNode).Select(n => n.OpType).Distinct().ToList();

    private static string Format(string sourceName, IReadOnlyList<UnsupportedOnnxNode> nodes)
    {
        var ops = nodes.Where(n => n.IsNode).Select(n => n.OpType).Distinct().ToList();
        var head = ops.Count > 0
            ? $"'{sourceName}' uses ONNX ops ModelOpt cannot map ({string.Join(", ", ops)}). "
            : $"'{sourceName}' cannot be imported. ";
        return head +
            string.Join(" ", nodes.Take(20).Select(n => n.IsNode ? $"{n.OpType} node '{n.NodeName}': {n.Reason}" : $"{n.OpType} '{n.NodeName}': {n.Reason}")) +
            (nodes.Count > 20 ? $" And {nodes.Count - 20} more nodes." : "");
    }
}
