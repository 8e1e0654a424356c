using ModelOpt.Engine.Graph;
using Onnx;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>Relu, Clip (ReLU6; min/max as inputs or attributes), LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Softmax.</summary>
internal static class ActivationConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        ("Relu", (c, node) => Unary(c, node, (v, x) => new ReLUNode(v, x))),
        ("Clip", Clip),
        ("LeakyRelu", (c, node) => Unary(c, node, (v, x) => new UnaryNode(v, c.NodeName, x, UnaryFunction.LeakyRelu, node.Float("alpha", 0.01f)))),
        ("Sigmoid", (c, node) => Unary(c, node, (v, x) => new UnaryNode(v, c.NodeName, x, UnaryFunction.Sigmoid))),
        ("HardSigmoid", (c, node) => Unary(c, node, (v, x) =>
            new UnaryNode(v, c.NodeName, x, UnaryFunction.HardSigmoid, node.Float("alpha", 0.2f), node.Float("beta", 0.5f)))),
        ("HardSwish", (c, node) => Unary(c, node, (v, x) => new UnaryNode(v, c.NodeName, x, UnaryFunction.HardSwish))),
        ("Softmax", Softmax),
    ];

    private static void Unary(OnnxConversion c, NodeProto node, Func<GraphValue, GraphValue, GraphNode> create)
    {
        var input = c.Data(node.Input[0]);
        c.Add(node.Output[0], v => create(v, input));
    }

    private static void Clip(OnnxConversion c, NodeProto node)
    {
        var (min, max) = c.Opset >= 11
            ? (Bound(c, node.OptionalInput(1), float.MinValue), Bound(c, node.OptionalInput(2), float.MaxValue))
            : (node.Float("min", float.MinValue), node.Float("max", float.MaxValue));
        Unary(c, node, (v, x) => min == 0 && max == float.MaxValue ? new ReLUNode(v, x) : new ClampNode(v, x, min, max));
    }

    private static float Bound(OnnxConversion c, string? name, float fallback) =>
        name is null ? fallback : c.Constant(name).to_type(ScalarType.Float32).item<float>();

    /// <summary>Over the class axis of (N, classes) logits: opset 13's axis -1 and older opsets' axis 1 are the same there.</summary>
    private static void Softmax(OnnxConversion c, NodeProto node)
    {
        var input = c.Data(node.Input[0]);
        var rank = c.ShapeOf(input).Length;
        var axis = node.Int("axis", c.Opset >= 13 ? -1 : 1);
        if (rank != 2 || axis is not (1 or -1))
        {
            throw new OnnxNodeNotSupportedException("Softmax is mapped over the class axis of (N, classes) logits only.");
        }
        c.Add(node.Output[0], v => new SoftmaxNode(v, c.NodeName, input, 1));
    }
}
