using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Graph.FloatOps;
using Onnx;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// Relu, Clip (ReLU6; min/max as inputs or attributes), LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Elu, Selu, Celu,
/// Softplus, ThresholdedRelu, PRelu, Gelu, Softmax and LogSoftmax on any axis.
/// </summary>
internal static class ActivationConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        ("Relu", (c, node) => DataOrFolded(c, node, new ElementwiseOp("Relu"), (v, x) => new ReLUNode(v, x))),
        ("Clip", Clip),
        ("LeakyRelu", (c, node) => DataOrFolded(c, node, new ActivationOp("LeakyRelu", node.Float("alpha", 0.01f)),
            (v, x) => new UnaryNode(v, c.NodeName, x, UnaryFunction.LeakyRelu, node.Float("alpha", 0.01f)))),
        ("Sigmoid", (c, node) => DataOrFolded(c, node, new ElementwiseOp("Sigmoid"), (v, x) => new UnaryNode(v, c.NodeName, x, UnaryFunction.Sigmoid))),
        ("HardSigmoid", (c, node) => DataOrFolded(c, node, new ActivationOp("HardSigmoid", node.Float("alpha", 0.2f), node.Float("beta", 0.5f)),
            (v, x) => new UnaryNode(v, c.NodeName, x, UnaryFunction.HardSigmoid, node.Float("alpha", 0.2f), node.Float("beta", 0.5f)))),
        ("HardSwish", (c, node) => DataOrFolded(c, node, null, (v, x) => new UnaryNode(v, c.NodeName, x, UnaryFunction.HardSwish))),
        ("Elu", (c, node) => Activation(c, node, new ActivationOp("Elu", node.Float("alpha", 1f)))),
        ("Celu", (c, node) => Activation(c, node, new ActivationOp("Celu", node.Float("alpha", 1f)))),
        ("Selu", (c, node) => Activation(c, node, new ActivationOp("Selu", node.Float("alpha", 1.67326319217681884765625f), node.Float("gamma", 1.05070102214813232421875f)))),
        ("Softplus", (c, node) => Activation(c, node, new ActivationOp("Softplus"))),
        ("ThresholdedRelu", (c, node) => Activation(c, node, new ActivationOp("ThresholdedRelu", node.Float("alpha", 1f)))),
        ("Gelu", (c, node) => Activation(c, node, new ActivationOp("Gelu", TanhApproximation: node.String("approximate", "none") == "tanh"))),
        ("Softmax", (c, node) => Softmax(c, node, log: false)),
        ("LogSoftmax", (c, node) => Softmax(c, node, log: true)),
    ];

    private static void Activation(OnnxConversion c, NodeProto node, FloatOp op) => c.Apply(node.Output[0], op, [node.Input[0]]);

    /// <summary>The typed node on data (what the zoo models trace into), the float op's evaluation on a constant.</summary>
    private static void DataOrFolded(OnnxConversion c, NodeProto node, FloatOp? fold, Func<GraphValue, GraphValue, GraphNode> create)
    {
        if (c.IsConstant(node.Input[0]) && fold is not null)
        {
            c.Apply(node.Output[0], fold, [node.Input[0]]);
            return;
        }
        var input = c.Data(node.Input[0]);
        c.Add(node.Output[0], v => create(v, input));
    }

    private static void Clip(OnnxConversion c, NodeProto node)
    {
        var (min, max) = c.Opset >= 11
            ? (Bound(c, node.OptionalInput(1), float.NegativeInfinity), Bound(c, node.OptionalInput(2), float.PositiveInfinity))
            : (node.Float("min", float.NegativeInfinity), node.Float("max", float.PositiveInfinity));
        if (c.IsConstant(node.Input[0]))
        {
            c.FoldConstant(node.Output[0], [node.Input[0]], x => x[0].is_floating_point() ? x[0].clamp(min, max) : x[0].clamp((long)Math.Max(min, long.MinValue), (long)Math.Min(max, long.MaxValue)));
            return;
        }
        var input = c.Data(node.Input[0]);
        c.Add(node.Output[0], v => min == 0 && float.IsPositiveInfinity(max) ? new ReLUNode(v, input)
            : new ClampNode(v, input, Finite(min), Finite(max)));
    }

    // TorchScript and ONNX initializers write finite bounds; float32's extremes clamp nothing a float32 can hold.
    private static double Finite(float bound) => float.IsNegativeInfinity(bound) ? float.MinValue : float.IsPositiveInfinity(bound) ? float.MaxValue : bound;

    private static float Bound(OnnxConversion c, string? name, float fallback) =>
        name is null ? fallback : c.Constant(name).to_type(ScalarType.Float32).item<float>();

    /// <summary>
    /// From opset 13 along <c>axis</c> (default -1); before 13 over everything from <c>axis</c> on (default 1), the input
    /// coerced to 2-D. A softmax over the classes of (N, classes) logits keeps the classifier's <see cref="SoftmaxNode"/>.
    /// </summary>
    private static void Softmax(OnnxConversion c, NodeProto node, bool log)
    {
        var name = node.Input[0];
        var rank = c.IsConstant(name) ? c.Constant(name).dim() : c.ShapeOf(c.Data(name)).Length;
        var axis = FloatOp.NormalizeAxis(node.Int("axis", c.Opset >= 13 ? -1 : 1), rank);
        if (!log && rank == 2 && axis == 1 && c.IsData(name))
        {
            var input = c.Data(name);
            c.Add(node.Output[0], v => new SoftmaxNode(v, c.NodeName, input, 1));
            return;
        }
        c.Apply(node.Output[0], new SoftmaxOp(axis, log, Coerced: c.Opset < 13 && axis != rank - 1), [name]);
    }
}
