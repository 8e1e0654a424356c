using ModelOpt.Engine.Graph;
using Onnx;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>Add (residuals; a constant added to a MatMul becomes its bias), Mul (squeeze-excite gates), Gemm and MatMul.</summary>
internal static class ArithmeticConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        ("Add", Add),
        ("Mul", Mul),
        ("Gemm", Gemm),
        ("MatMul", MatMul),
    ];

    private static void Add(OnnxConversion c, NodeProto node)
    {
        var (a, b) = (node.Input[0], node.Input[1]);
        if (c.IsConstant(a) && c.IsConstant(b))
        {
            c.SetConstant(node.Output[0], FoldedShapeArithmetic(c, a, b, (x, y) => x + y));
            return;
        }
        if (c.IsData(a) && c.IsData(b))
        {
            var (left, right) = (c.Data(a), c.Data(b));
            if (!c.ShapeOf(left).SequenceEqual(c.ShapeOf(right)))
            {
                throw new OnnxNodeNotSupportedException("a broadcasting Add is not mapped; both operands must have the same shape.");
            }
            c.Add(node.Output[0], v => new AddNode(v, left, right));
            return;
        }
        var (dataName, constantName) = c.IsData(a) ? (a, b) : (b, a);
        var data = c.Data(dataName);
        var bias = c.Constant(constantName);
        if (c.Producer(data) is not LinearNode { Bias: null } linear || c.Readers(dataName) != 1 || bias.numel() != linear.Weight.shape[0])
        {
            throw new OnnxNodeNotSupportedException("adding a constant is mapped only as the bias of the MatMul before it.");
        }
        c.Replace(data, linear with { Bias = c.Own(bias.reshape(-1)) }, node.Output[0]);
    }

    private static void Mul(OnnxConversion c, NodeProto node)
    {
        var (a, b) = (node.Input[0], node.Input[1]);
        if (c.IsConstant(a) && c.IsConstant(b))
        {
            c.SetConstant(node.Output[0], FoldedShapeArithmetic(c, a, b, (x, y) => x * y));
            return;
        }
        var (left, right) = (c.Data(a), c.Data(b));
        c.Add(node.Output[0], v => new MulNode(v, c.NodeName, left, right));
    }

    /// <summary>Y = alpha * A B' + beta * C with a constant B and C: a linear layer with weight alpha * B (transposed unless transB).</summary>
    private static void Gemm(OnnxConversion c, NodeProto node)
    {
        if (node.Int("transA", 0) != 0)
        {
            throw new OnnxNodeNotSupportedException("Gemm with transA=1 is not mapped.");
        }
        var input = Input2d(c, node.Input[0]);
        var b = c.Constant(node.Input[1]);
        using var weight = (node.Int("transB", 0) == 1 ? b : b.t()) * node.Float("alpha", 1f);
        using var bias = node.OptionalInput(2) is { } name ? c.Constant(name) * node.Float("beta", 1f) : null;
        if (bias is not null && bias.numel() != weight.shape[0])
        {
            throw new OnnxNodeNotSupportedException("Gemm's C must be one bias per output feature.");
        }
        var ownedBias = bias is null ? null : c.Own(bias.reshape(-1));
        c.Add(node.Output[0], v => new LinearNode(v, c.NodeName, input, c.Own(weight), ownedBias));
    }

    private static void MatMul(OnnxConversion c, NodeProto node)
    {
        var input = Input2d(c, node.Input[0]);
        var b = c.Constant(node.Input[1]);
        if (b.dim() != 2)
        {
            throw new OnnxNodeNotSupportedException("MatMul is mapped only with a constant 2-d weight.");
        }
        using var weight = b.t();
        c.Add(node.Output[0], v => new LinearNode(v, c.NodeName, input, c.Own(weight), null));
    }

    private static GraphValue Input2d(OnnxConversion c, string name)
    {
        var input = c.Data(name);
        return c.ShapeOf(input).Length == 2
            ? input
            : throw new OnnxNodeNotSupportedException("a fully connected layer is mapped on (N, features) inputs only; flatten first.");
    }

    /// <summary>Arithmetic on folded shape tensors; the symbolic batch dimension cannot take part.</summary>
    private static Tensor FoldedShapeArithmetic(OnnxConversion c, string a, string b, Func<Tensor, Tensor, Tensor> op)
    {
        var (x, y) = (c.Constant(a), c.Constant(b));
        if (ShapeConverters.HasBatchDimension(x) || ShapeConverters.HasBatchDimension(y))
        {
            throw new OnnxNodeNotSupportedException("arithmetic on the batch size is not mapped.");
        }
        return op(x, y);
    }
}
