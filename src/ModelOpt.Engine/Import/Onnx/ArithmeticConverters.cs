using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Graph.FloatOps;
using Onnx;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// Element-wise arithmetic with numpy broadcasting (int8 Add for residuals of one shape, a constant added to a linear
/// layer folded into its bias, every other form FP32), Gemm and MatMul (a constant 2-D weight is an int8 linear layer
/// on input of any rank; activation × activation stays FP32).
/// </summary>
internal static class ArithmeticConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        .. ElementwiseOp.Types
            .Where(t => t is not ("Add" or "Mul" or "Relu" or "Sigmoid"))
            .Select(t => (t, (OnnxConverter)((c, node) => Elementwise(c, node, t)))),
        ("Add", Add),
        ("Mul", Mul),
        ("Mean", Mean),
        ("Mod", (c, node) => c.Apply(node.Output[0], new ModOp(node.Int("fmod", 0) != 0), [node.Input[0], node.Input[1]])),
        ("Gemm", Gemm),
        ("MatMul", MatMul),
    ];

    private static void Elementwise(OnnxConversion c, NodeProto node, string type)
    {
        var inputs = LegacyBroadcast(c, node);
        var arity = ElementwiseOp.ArityOf(type);
        if (arity > 0 && inputs.Count != arity)
        {
            throw new OnnxNodeNotSupportedException($"{type} takes {arity} inputs, it has {inputs.Count}.");
        }
        c.Apply(node.Output[0], new ElementwiseOp(type), inputs);
    }

    /// <summary>
    /// Before opset 7 a binary op broadcast only with <c>broadcast=1</c>, its second operand aligned at <c>axis</c>:
    /// that constant is reshaped to numpy's trailing alignment.
    /// </summary>
    private static List<string> LegacyBroadcast(OnnxConversion c, NodeProto node)
    {
        var inputs = node.Input.Where(i => i.Length > 0).ToList();
        if (c.Opset >= 7 || node.Int("broadcast", 0) == 0 || node.Attribute.All(a => a.Name != "axis"))
        {
            return inputs;
        }
        var rank = c.IsData(inputs[0]) ? c.ShapeOf(c.Data(inputs[0])).Length : c.Constant(inputs[0]).dim();
        var b = c.Constant(inputs[1]);
        var axis = FloatOp.NormalizeAxis(node.Int("axis", 0), rank);
        var aligned = c.Intermediate(node.Output[0], "aligned");
        c.SetConstant(aligned, b.reshape([.. b.shape, .. Enumerable.Repeat(1L, (int)(rank - axis - b.dim()))]));
        return [inputs[0], aligned];
    }

    private static void Add(OnnxConversion c, NodeProto node)
    {
        var inputs = LegacyBroadcast(c, node);
        var (a, b) = (inputs[0], inputs[1]);
        if (c.IsData(a) && c.IsData(b))
        {
            var (left, right) = (c.Data(a), c.Data(b));
            if (c.BatchShapeOf(left) == c.BatchShapeOf(right) || SameShape(c, left, right))
            {
                c.Add(node.Output[0], v => new AddNode(v, left, right)); // The int8 add (it does not broadcast).
                return;
            }
        }
        else if (c.IsData(a) != c.IsData(b))
        {
            var (dataName, constantName) = c.IsData(a) ? (a, b) : (b, a);
            var data = c.Data(dataName);
            var bias = c.Constant(constantName);
            if (c.Producer(data) is LinearNode { Bias: null } linear && c.Readers(dataName) == 1
                && bias.shape.Length >= 1 && bias.shape[^1] == linear.Weight.shape[0] && bias.numel() == linear.Weight.shape[0]
                && bias.dim() <= c.ShapeOf(data).Length)
            {
                // A MatMul's bias (exporters write Linear as MatMul + Add).
                c.Replace(data, linear with { Bias = c.Own(bias.reshape(-1)) }, node.Output[0]);
                return;
            }
        }
        c.Apply(node.Output[0], new ElementwiseOp("Add"), [a, b]);
    }

    private static bool SameShape(OnnxConversion c, GraphValue left, GraphValue right) =>
        c.SampleShapes(left).Zip(c.SampleShapes(right)).All(p => p.First.SequenceEqual(p.Second));

    private static void Mul(OnnxConversion c, NodeProto node)
    {
        var inputs = LegacyBroadcast(c, node);
        if (c.IsData(inputs[0]) && c.IsData(inputs[1]))
        {
            var (left, right) = (c.Data(inputs[0]), c.Data(inputs[1]));
            c.Add(node.Output[0], v => new MulNode(v, c.NodeName, left, right));
            return;
        }
        c.Apply(node.Output[0], new ElementwiseOp("Mul"), inputs);
    }

    private static void Mean(OnnxConversion c, NodeProto node)
    {
        var inputs = node.Input.Where(i => i.Length > 0).ToList();
        var sum = c.Intermediate(node.Output[0], "sum");
        var count = c.Intermediate(node.Output[0], "count");
        c.Apply(sum, new ElementwiseOp("Sum"), inputs);
        c.SetConstant(count, tensor((float)inputs.Count));
        c.Apply(node.Output[0], new ElementwiseOp("Div"), [sum, count]);
    }

    /// <summary>
    /// Y = alpha * A' B' + beta * C. With a constant B: a linear layer (weight alpha * B', bias beta * C when C is one
    /// value per output feature, else C added in FP32); transA a Transpose in front. A data B: FP32 MatMul.
    /// </summary>
    private static void Gemm(OnnxConversion c, NodeProto node)
    {
        var output = node.Output[0];
        var (alpha, beta) = (node.Float("alpha", 1f), node.Float("beta", 1f));
        var a = node.Input[0];
        if (node.Int("transA", 0) != 0)
        {
            var transposed = c.Intermediate(output, "a");
            c.Apply(transposed, new TransposeOp([1, 0]), [a]);
            a = transposed;
        }
        var cName = node.OptionalInput(2);
        var product = cName is null ? output : c.Intermediate(output, "product");
        if (c.IsConstant(node.Input[1]) && c.IsData(a))
        {
            var b = c.Constant(node.Input[1]).to_type(ScalarType.Float32);
            using var weight = (node.Int("transB", 0) == 1 ? b : b.t()) * alpha;
            var input = c.Data(a);
            var outFeatures = weight.shape[0];
            var bias = cName is not null && c.IsConstant(cName) && c.Constant(cName).numel() == outFeatures && c.Constant(cName).shape is [_] or [1, _]
                ? c.Own(c.Constant(cName).to_type(ScalarType.Float32).reshape(-1) * beta)
                : null;
            var name = bias is not null ? output : product;
            c.Add(name, v => new LinearNode(v, c.NodeName, input, c.Own(weight), bias));
            if (bias is not null || cName is null)
            {
                return;
            }
        }
        else
        {
            var b = node.Input[1];
            if (node.Int("transB", 0) != 0)
            {
                var transposed = c.Intermediate(output, "b");
                c.Apply(transposed, new TransposeOp([1, 0]), [b]);
                b = transposed;
            }
            var scaled = alpha == 1f ? product : c.Intermediate(output, "ab");
            c.Apply(scaled, new MatMulOp(), [a, b]);
            if (alpha != 1f)
            {
                var alphaName = c.Intermediate(output, "alpha");
                c.SetConstant(alphaName, tensor(alpha));
                c.Apply(product, new ElementwiseOp("Mul"), [scaled, alphaName]);
            }
            if (cName is null)
            {
                return;
            }
        }
        var addend = cName!;
        if (beta != 1f)
        {
            var betaName = c.Intermediate(output, "beta");
            addend = c.Intermediate(output, "c");
            c.SetConstant(betaName, tensor(beta));
            c.Apply(addend, new ElementwiseOp("Mul"), [cName!, betaName]);
        }
        c.Apply(output, new ElementwiseOp("Add"), [product, addend]);
    }

    private static void MatMul(OnnxConversion c, NodeProto node)
    {
        var (a, b) = (node.Input[0], node.Input[1]);
        if (c.IsData(a) && c.IsConstant(b) && c.Constant(b).dim() == 2 && c.ShapeOf(c.Data(a)).Length >= 2)
        {
            // A linear layer on (..., in) input: LibTorch's quantized::linear takes N-D input as well.
            var input = c.Data(a);
            using var weight = c.Constant(b).to_type(ScalarType.Float32).t();
            c.Add(node.Output[0], v => new LinearNode(v, c.NodeName, input, c.Own(weight), null));
            return;
        }
        c.Apply(node.Output[0], new MatMulOp(), [a, b]);
    }
}
