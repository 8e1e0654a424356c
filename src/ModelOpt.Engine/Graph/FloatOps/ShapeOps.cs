using ModelOpt.Engine.Export.Onnx;
using Onnx;
using static ModelOpt.Engine.Export.Onnx.OnnxAttributes;

namespace ModelOpt.Engine.Graph.FloatOps;

/// <summary>ONNX Transpose: the axes permuted by <see cref="Perm"/>.</summary>
public sealed record TransposeOp(long[] Perm) : FloatOp
{
    public override string OpType => "Transpose";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) => operands[0].permute(Perm);

    public override string TorchScript(IReadOnlyList<string> operands) => $"torch.permute({operands[0]}, {ScriptInts(Perm)})";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) => sink.Node("Transpose", [operands[0]], Ints("perm", Perm));
}

/// <summary>ONNX Reshape to <see cref="Shape"/> (0 already resolved; at most one -1), batch-dependent entries from the batch source.</summary>
public sealed record ReshapeOp(BatchDims Shape) : FloatOp
{
    public override string OpType => "Reshape";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) => operands[0].reshape(Shape.Resolve(operands));

    public override string TorchScript(IReadOnlyList<string> operands) => $"torch.reshape({operands[0]}, {Shape.TorchScript(operands)})";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) =>
        sink.Node("Reshape", [operands[0], Shape.Onnx(sink, operands, "reshape.shape")]);
}

/// <summary>ONNX Expand, with the broadcast output shape resolved at import (torch's expand then means the same).</summary>
public sealed record ExpandOp(BatchDims Shape) : FloatOp
{
    public override string OpType => "Expand";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) => operands[0].expand(Shape.Resolve(operands)).contiguous();

    public override string TorchScript(IReadOnlyList<string> operands) => $"{operands[0]}.expand({Shape.TorchScript(operands)}).contiguous()";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) =>
        sink.Node("Expand", [operands[0], Shape.Onnx(sink, operands, "expand.shape")]);
}

/// <summary>ONNX Tile.</summary>
public sealed record TileOp(long[] Repeats) : FloatOp
{
    public override string OpType => "Tile";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) => operands[0].repeat(Repeats);

    public override string TorchScript(IReadOnlyList<string> operands) => $"{operands[0]}.repeat({ScriptInts(Repeats)})";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands)
    {
        using var repeats = torch.tensor(Repeats);
        return sink.Node("Tile", [operands[0], sink.Constant("tile.repeats", repeats)]);
    }
}

/// <summary>ONNX Squeeze (<see cref="Unsqueeze"/> false) or Unsqueeze of non-negative, sorted axes.</summary>
public sealed record SqueezeOp(long[] Axes, bool Unsqueeze) : FloatOp
{
    public override string OpType => Unsqueeze ? "Unsqueeze" : "Squeeze";

    private IEnumerable<long> Order => Unsqueeze ? Axes.Order() : Axes.OrderDescending();

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands)
    {
        var result = operands[0].alias();
        foreach (var axis in Order)
        {
            result = Unsqueeze ? result.unsqueeze(axis) : result.squeeze(axis);
        }
        return result;
    }

    public override string TorchScript(IReadOnlyList<string> operands) =>
        Order.Aggregate(operands[0], (x, axis) => $"torch.{(Unsqueeze ? "unsqueeze" : "squeeze")}({x}, {axis})");

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands)
    {
        using var axes = torch.tensor(Axes);
        return sink.Node(OpType, [operands[0], sink.Constant($"{OpType.ToLowerInvariant()}.axes", axes)]);
    }
}

/// <summary>ONNX Gather along <see cref="Axis"/> (non-negative) with int64 indices (negative ones count from the end).</summary>
public sealed record GatherOp(long Axis) : FloatOp
{
    public override string OpType => "Gather";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands)
    {
        var (x, indices) = (operands[0], operands[1]);
        var positive = indices.to_type(ScalarType.Int64).remainder(x.shape[Axis]);
        long[] shape = [.. x.shape[..(int)Axis], .. indices.shape, .. x.shape[((int)Axis + 1)..]];
        return x.index_select(Axis, positive.flatten()).reshape(shape);
    }

    public override string TorchScript(IReadOnlyList<string> operands)
    {
        var (x, i) = (operands[0], operands[1]);
        return $"torch.reshape(torch.index_select({x}, {Axis}, torch.remainder({i}, {x}.size({Axis})).flatten()), " +
               $"{x}.size()[:{Axis}] + {i}.size() + {x}.size()[{Axis + 1}:])";
    }

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) => sink.Node("Gather", operands, Int("axis", Axis));
}

/// <summary>A step-1 slice: <see cref="Length"/> entries from <see cref="Start"/> along <see cref="Axis"/> (ONNX Slice, Split).</summary>
public sealed record NarrowOp(long Axis, long Start, long Length) : FloatOp
{
    public override string OpType => "Slice";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) => operands[0].narrow(Axis, Start, Length);

    public override string TorchScript(IReadOnlyList<string> operands) => $"torch.narrow({operands[0]}, {Axis}, {Start}, {Length})";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands)
    {
        using var starts = torch.tensor(new[] { Start });
        using var ends = torch.tensor(new[] { Start + Length });
        using var axes = torch.tensor(new[] { Axis });
        return sink.Node("Slice", [operands[0], sink.Constant("slice.starts", starts), sink.Constant("slice.ends", ends), sink.Constant("slice.axes", axes)]);
    }
}

/// <summary>ONNX Flatten at <see cref="Axis"/> (0..rank) of a value of rank <see cref="Rank"/>: always 2-D.</summary>
public sealed record FlattenOp(long Axis, long Rank) : FloatOp
{
    public override string OpType => "Flatten";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands)
    {
        var x = operands[0];
        return Axis == 0 ? x.reshape(1, -1) : Axis == Rank ? x.flatten().unsqueeze(1) : x.flatten(Axis).flatten(0, Axis - 1);
    }

    public override string TorchScript(IReadOnlyList<string> operands)
    {
        var x = operands[0];
        return Axis == 0 ? $"torch.reshape({x}, [1, -1])"
            : Axis == Rank ? $"torch.unsqueeze(torch.flatten({x}), 1)"
            : $"torch.flatten(torch.flatten({x}, {Axis}), 0, {Axis - 1})";
    }

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) => sink.Node("Flatten", operands, Int("axis", Axis));
}

/// <summary>A tensor of the operand's shape filled with true (Dropout's mask in inference).</summary>
public sealed record TrueLikeOp : FloatOp
{
    public override string OpType => "Dropout.mask";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) => ones_like(operands[0], dtype: ScalarType.Bool);

    public override string TorchScript(IReadOnlyList<string> operands) => $"torch.ones_like({operands[0]}, dtype=11)";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands)
    {
        using var value = torch.tensor(new[] { true });
        var fill = new AttributeProto { Name = "value", Type = AttributeProto.Types.AttributeType.Tensor, T = OnnxTensors.FromTensor("value", value) };
        return sink.Node("ConstantOfShape", [sink.Node("Shape", [operands[0]])], fill);
    }
}
