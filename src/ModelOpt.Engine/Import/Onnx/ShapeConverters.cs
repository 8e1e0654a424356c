using ModelOpt.Engine.Graph;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// Constants, pass-through ops and the shape arithmetic torch.onnx emits for <c>x.view(x.size(0), -1)</c>
/// (Shape → Gather → Unsqueeze → Concat → Reshape): folded to constants, the batch axis kept symbolic
/// (<see cref="OnnxConversion.BatchDimension"/>), so a Reshape that flattens becomes a flatten at any batch size.
/// </summary>
internal static class ShapeConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        ("Constant", Constant),
        ("Identity", (c, node) => c.Alias(node.Output[0], node.Input[0])),
        ("Dropout", Dropout),
        ("Cast", Cast),
        ("Shape", Shape),
        ("Gather", Gather),
        ("Unsqueeze", Unsqueeze),
        ("Squeeze", Squeeze),
        ("Concat", Concat),
        ("Reshape", Reshape),
        ("Flatten", Flatten),
    ];

    public static bool HasBatchDimension(Tensor shape) =>
        shape.dtype == ScalarType.Int64 && shape.numel() > 0 && (shape == OnnxConversion.BatchDimension).any().item<bool>();

    private static void Constant(OnnxConversion c, NodeProto node)
    {
        using var scope = NewDisposeScope();
        var value = node.TensorAttribute("value") is { } proto ? OnnxTensorReader.Read(proto)
            : node.Attribute.Any(a => a.Name == "value_float") ? tensor(node.Float("value_float", 0))
            : node.Attribute.Any(a => a.Name == "value_int") ? tensor(node.Int("value_int", 0))
            : node.Ints("value_ints") is { } ints ? tensor(ints)
            : throw new OnnxNodeNotSupportedException("only tensor, float, int and ints Constant values are mapped.");
        c.SetConstant(node.Output[0], value.MoveToOuterDisposeScope());
    }

    private static void Dropout(OnnxConversion c, NodeProto node)
    {
        if (node.Output.Count > 1 && c.Readers(node.Output[1]) > 0)
        {
            throw new OnnxNodeNotSupportedException("Dropout's mask output is not mapped.");
        }
        c.Alias(node.Output[0], node.Input[0]);
    }

    private static void Cast(OnnxConversion c, NodeProto node)
    {
        var to = (DataType)node.Int("to", 0);
        var input = node.Input[0];
        if (c.IsConstant(input) && to is DataType.Int64 or DataType.Int32)
        {
            c.SetConstant(node.Output[0], c.Constant(input).to_type(ScalarType.Int64));
        }
        else if (c.IsConstant(input) && to is DataType.Float && !HasBatchDimension(c.Constant(input)))
        {
            c.SetConstant(node.Output[0], c.Constant(input).to_type(ScalarType.Float32));
        }
        else if (c.IsData(input) && to == DataType.Float)
        {
            c.Alias(node.Output[0], input);
        }
        else
        {
            throw new OnnxNodeNotSupportedException($"Cast to {to} is mapped only in shape arithmetic.");
        }
    }

    private static void Shape(OnnxConversion c, NodeProto node)
    {
        var shape = c.ShapeOf(c.Data(node.Input[0])).ToArray();
        shape[0] = OnnxConversion.BatchDimension;
        var rank = shape.Length;
        long Clamp(long i) => Math.Clamp(i < 0 ? i + rank : i, 0, rank);
        var (start, end) = (Clamp(node.Int("start", 0)), Clamp(node.Int("end", rank)));
        c.SetConstant(node.Output[0], tensor(shape[(int)start..(int)Math.Max(start, end)]));
    }

    private static void Gather(OnnxConversion c, NodeProto node)
    {
        var data = c.Constant(node.Input[0]);
        var indices = c.Constant(node.Input[1]);
        var axis = node.Int("axis", 0);
        if (data.dim() != 1 || axis != 0)
        {
            throw new OnnxNodeNotSupportedException("Gather is mapped only on 1-d shape tensors.");
        }
        using var flat = indices.flatten();
        using var positive = torch.where(flat < 0, flat + data.shape[0], flat);
        using var picked = data.index_select(0, positive);
        c.SetConstant(node.Output[0], picked.reshape(indices.shape));
    }

    private static void Unsqueeze(OnnxConversion c, NodeProto node)
    {
        var data = c.Constant(node.Input[0]);
        var axes = Axes(c, node);
        var rank = data.dim() + axes.Length;
        c.SetConstant(node.Output[0], PerAxis(data, axes.Select(a => a < 0 ? a + rank : a).Order(), (t, axis) => t.unsqueeze(axis)));
    }

    private static void Squeeze(OnnxConversion c, NodeProto node)
    {
        var data = c.Constant(node.Input[0]);
        var rank = data.dim();
        c.SetConstant(node.Output[0], PerAxis(data, Axes(c, node).Select(a => a < 0 ? a + rank : a).OrderDescending(), (t, axis) => t.squeeze(axis)));
    }

    /// <summary>Applies <paramref name="op"/> once per axis, in the order given, disposing the intermediates.</summary>
    private static Tensor PerAxis(Tensor data, IEnumerable<long> axes, Func<Tensor, long, Tensor> op)
    {
        var result = data.alias();
        foreach (var axis in axes)
        {
            var next = op(result, axis);
            result.Dispose();
            result = next;
        }
        return result;
    }

    /// <summary>axes: an attribute before opset 13, an input from 13 on.</summary>
    private static long[] Axes(OnnxConversion c, NodeProto node) =>
        node.Ints("axes") ?? (node.OptionalInput(1) is { } name
            ? c.Constant(name).data<long>().ToArray()
            : throw new OnnxNodeNotSupportedException("axes are required."));

    private static void Concat(OnnxConversion c, NodeProto node)
    {
        var axis = node.Int("axis", 0);
        if (node.Input.All(c.IsConstant))
        {
            c.SetConstant(node.Output[0], cat(node.Input.Select(c.Constant).ToList(), axis));
            return;
        }
        var parts = node.Input.Select(c.Data).ToList();
        var rank = c.ShapeOf(parts[0]).Length;
        var dim = axis < 0 ? axis + rank : axis;
        if (dim == 0)
        {
            throw new OnnxNodeNotSupportedException("concatenation along the batch axis is not mapped.");
        }
        c.Add(node.Output[0], v => new ConcatNode(v, parts, dim));
    }

    private static void Flatten(OnnxConversion c, NodeProto node)
    {
        var input = c.Data(node.Input[0]);
        var rank = c.ShapeOf(input).Length;
        var axis = node.Int("axis", 1);
        if ((axis < 0 ? axis + rank : axis) != 1)
        {
            throw new OnnxNodeNotSupportedException("Flatten is mapped with axis 1 (keep the batch axis) only.");
        }
        c.Add(node.Output[0], v => new FlattenNode(v, input, 1));
    }

    /// <summary>
    /// A Reshape to (batch, everything else) is a flatten; one to the input's own shape is dropped. The target's first
    /// entry may be the symbolic batch, 0 (copy), -1 (infer), or a fixed-batch export's literal batch size.
    /// </summary>
    private static void Reshape(OnnxConversion c, NodeProto node)
    {
        var input = c.Data(node.Input[0]);
        var target = c.Constant(node.Input[1]).data<long>().ToArray();
        var shape = c.ShapeOf(input);
        var allowZero = node.Int("allowzero", 0) != 0;
        var first = target.Length > 0 ? target[0] : 1;
        var batchFirst = first == OnnxConversion.BatchDimension || first == -1 || (first == 0 && !allowZero) || first == c.FixedBatch;
        var rest = target.Skip(1).Select((d, i) => d == 0 && !allowZero && i + 1 < shape.Length ? shape[i + 1] : d).ToArray();
        var features = shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        if (batchFirst && rest.Length == 1 && (rest[0] == -1 || rest[0] == features) && !(first == -1 && rest[0] == -1))
        {
            c.Add(node.Output[0], v => new FlattenNode(v, input, 1));
        }
        else if (batchFirst && rest.SequenceEqual(shape.Skip(1)))
        {
            c.Alias(node.Output[0], node.Input[0]);
        }
        else
        {
            throw new OnnxNodeNotSupportedException(
                $"Reshape to [{string.Join(", ", target.Select(d => d == OnnxConversion.BatchDimension ? "N" : d.ToString()))}] is not a flatten " +
                "(N, C, H, W) → (N, C·H·W); ModelOpt maps no other reshape.");
        }
    }
}
