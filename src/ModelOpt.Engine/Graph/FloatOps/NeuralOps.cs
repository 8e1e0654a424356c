using static ModelOpt.Engine.Export.Onnx.OnnxAttributes;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Graph.FloatOps;

/// <summary>ONNX MatMul (numpy matmul, any rank) of two graph values: attention's activation × activation products.</summary>
public sealed record MatMulOp : FloatOp
{
    public override string OpType => "MatMul";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) => operands[0].matmul(operands[1]);

    public override string TorchScript(IReadOnlyList<string> operands) => $"torch.matmul({operands[0]}, {operands[1]})";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) => sink.Node("MatMul", operands);
}

/// <summary>
/// Softmax or LogSoftmax. From opset 13 along <see cref="Axis"/>; before 13 ONNX coerces the input to 2-D at the axis
/// (<see cref="Coerced"/>) and normalizes over everything from the axis on.
/// </summary>
public sealed record SoftmaxOp(long Axis, bool Log, bool Coerced) : FloatOp
{
    public override string OpType => Log ? "LogSoftmax" : "Softmax";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands)
    {
        var x = operands[0];
        var input = Coerced ? x.reshape(Axis == 0 ? [1, -1] : [x.shape[..(int)Axis].Aggregate(1L, (a, b) => a * b), -1]) : x;
        var result = Log ? functional.log_softmax(input, Coerced ? 1 : Axis) : functional.softmax(input, Coerced ? 1 : Axis);
        return Coerced ? result.reshape(x.shape) : result;
    }

    public override string TorchScript(IReadOnlyList<string> operands)
    {
        var x = operands[0];
        var function = Log ? "torch.log_softmax" : "torch.softmax";
        if (!Coerced)
        {
            return $"{function}({x}, {Axis})";
        }
        var rows = Axis == 0 ? "1" : $"torch.flatten({x}, 0, {Axis - 1}).size(0)";
        return $"torch.reshape({function}(torch.reshape({x}, [{rows}, -1]), 1), {x}.size())";
    }

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands)
    {
        if (!Coerced)
        {
            return sink.Node(OpType, operands, Int("axis", Axis));
        }
        // The exporter writes opset 17, whose Softmax is per-axis: the old 2-D coercion written out.
        var flat = sink.Node("Flatten", operands, Int("axis", Axis));
        var normalized = sink.Node(OpType, [flat], Int("axis", 1));
        return sink.Node("Reshape", [normalized, sink.Node("Shape", operands)]);
    }
}

/// <summary>ONNX ReduceMean / Sum / Max / Min / Prod / L1 / L2 / SumSquare / LogSum / LogSumExp over non-negative <see cref="Axes"/>.</summary>
public sealed record ReduceOp(string Type, long[] Axes, bool KeepDims) : FloatOp
{
    public static readonly string[] Types =
        ["ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2", "ReduceSumSquare", "ReduceLogSum", "ReduceLogSumExp"];

    public override string OpType => Type;

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands)
    {
        var x = operands[0];
        return Type switch
        {
            "ReduceMean" => x.mean(Axes, KeepDims),
            "ReduceSum" => x.sum(Axes, KeepDims),
            "ReduceMax" => x.amax(Axes, KeepDims),
            "ReduceMin" => x.amin(Axes, KeepDims),
            "ReduceProd" => Axes.OrderDescending().Aggregate(x.alias(), (t, axis) => t.prod(axis, KeepDims)),
            "ReduceL1" => x.abs().sum(Axes, KeepDims),
            "ReduceL2" => (x * x).sum(Axes, KeepDims).sqrt(),
            "ReduceSumSquare" => (x * x).sum(Axes, KeepDims),
            "ReduceLogSum" => x.sum(Axes, KeepDims).log(),
            "ReduceLogSumExp" => x.exp().sum(Axes, KeepDims).log(),
            _ => throw new NotSupportedException($"No reduction {Type}."),
        };
    }

    public override string TorchScript(IReadOnlyList<string> operands)
    {
        var (x, axes, keep) = (operands[0], ScriptInts(Axes), ScriptBool(KeepDims));
        return Type switch
        {
            "ReduceMean" => $"torch.mean({x}, {axes}, {keep})",
            "ReduceSum" => $"torch.sum({x}, {axes}, {keep})",
            "ReduceMax" => $"torch.amax({x}, {axes}, {keep})",
            "ReduceMin" => $"torch.amin({x}, {axes}, {keep})",
            "ReduceProd" => Axes.OrderDescending().Aggregate(x, (t, axis) => $"torch.prod({t}, {axis}, {keep})"),
            "ReduceL1" => $"torch.sum(torch.abs({x}), {axes}, {keep})",
            "ReduceL2" => $"torch.sqrt(torch.sum(torch.mul({x}, {x}), {axes}, {keep}))",
            "ReduceSumSquare" => $"torch.sum(torch.mul({x}, {x}), {axes}, {keep})",
            "ReduceLogSum" => $"torch.log(torch.sum({x}, {axes}, {keep}))",
            "ReduceLogSumExp" => $"torch.log(torch.sum(torch.exp({x}), {axes}, {keep}))",
            _ => throw new NotSupportedException($"No reduction {Type}."),
        };
    }

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands)
    {
        // Opset 17: ReduceSum takes its axes as an input, the others as an attribute.
        if (Type == "ReduceSum")
        {
            using var axes = torch.tensor(Axes);
            return sink.Node(Type, [operands[0], sink.Constant("reduce.axes", axes)], Int("keepdims", KeepDims ? 1 : 0));
        }
        return sink.Node(Type, [operands[0]], Ints("axes", Axes), Int("keepdims", KeepDims ? 1 : 0));
    }
}

/// <summary>
/// ONNX LayerNormalization over the axes from <see cref="Axis"/> on (non-negative): operands x, scale and optionally
/// bias, applied by broadcasting after the normalization.
/// </summary>
public sealed record LayerNormOp(long Axis, double Eps, bool HasBias) : FloatOp
{
    public override string OpType => "LayerNormalization";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands)
    {
        var x = operands[0];
        var normalized = functional.layer_norm(x, x.shape[(int)Axis..], null, null, Eps) * operands[1];
        return HasBias ? normalized + operands[2] : normalized;
    }

    public override string TorchScript(IReadOnlyList<string> operands)
    {
        var normalized = $"torch.mul(torch.layer_norm({operands[0]}, {operands[0]}.size()[{Axis}:], None, None, {ScriptFloat(Eps)}, False), {operands[1]})";
        return HasBias ? $"torch.add({normalized}, {operands[2]})" : normalized;
    }

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) =>
        sink.Node("LayerNormalization", operands, Int("axis", Axis), Float("epsilon", (float)Eps));
}

/// <summary>Inference BatchNormalization of any rank: operands x, scale, bias, mean, var (a BatchNorm no conv absorbs).</summary>
public sealed record BatchNormOp(double Eps) : FloatOp
{
    public override string OpType => "BatchNormalization";

    public override Tensor Evaluate(IReadOnlyList<Tensor> o) => functional.batch_norm(o[0], o[3], o[4], o[1], o[2], false, 0, Eps);

    public override string TorchScript(IReadOnlyList<string> o) =>
        $"torch.batch_norm({o[0]}, {o[1]}, {o[2]}, {o[3]}, {o[4]}, False, 0.0, {ScriptFloat(Eps)}, False)";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) =>
        sink.Node("BatchNormalization", operands, Float("epsilon", (float)Eps));
}

/// <summary>ONNX InstanceNormalization: operands x, scale, bias.</summary>
public sealed record InstanceNormOp(double Eps) : FloatOp
{
    public override string OpType => "InstanceNormalization";

    public override Tensor Evaluate(IReadOnlyList<Tensor> o) => functional.instance_norm(o[0], null, null, o[1], o[2], true, 0.1, Eps);

    public override string TorchScript(IReadOnlyList<string> o) =>
        $"torch.instance_norm({o[0]}, {o[1]}, {o[2]}, None, None, True, 0.0, {ScriptFloat(Eps)}, False)";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) =>
        sink.Node("InstanceNormalization", operands, Float("epsilon", (float)Eps));
}

/// <summary>
/// ONNX Pad: <see cref="OnnxPads"/> in ONNX order (all begins, then all ends), <see cref="TorchPads"/> the same in
/// torch's order (last axis first) trimmed to the padded trailing axes; mode constant, reflect, edge or wrap.
/// </summary>
public sealed record PadOp(string Mode, long[] OnnxPads, long[] TorchPads, double Value) : FloatOp
{
    public override string OpType => "Pad";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) => functional.pad(operands[0], TorchPads, Mode switch
    {
        "reflect" => PaddingModes.Reflect,
        "edge" => PaddingModes.Replicate,
        "wrap" => PaddingModes.Circular,
        _ => PaddingModes.Constant,
    }, Value);

    public override string TorchScript(IReadOnlyList<string> operands)
    {
        var (x, pads, dims) = (operands[0], ScriptInts(TorchPads), TorchPads.Length / 2);
        return Mode switch
        {
            "reflect" => $"torch.reflection_pad{dims}d({x}, {pads})",
            "edge" => $"torch.replication_pad{dims}d({x}, {pads})",
            "wrap" => $"torch._pad_circular({x}, {pads})",
            _ => $"torch.constant_pad_nd({x}, {pads}, {ScriptFloat(Value)})",
        };
    }

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands)
    {
        using var pads = torch.tensor(OnnxPads);
        using var value = torch.tensor((float)Value);
        return sink.Node("Pad", [operands[0], sink.Constant("pad.pads", pads), sink.Constant("pad.value", value)],
            String("mode", Mode));
    }
}

/// <summary>2-D ONNX ConvTranspose (FP32): operands x, weight and optionally bias; symmetric padding.</summary>
public sealed record ConvTransposeOp(long[] Stride, long[] Padding, long[] OutputPadding, long[] Dilation, long Groups) : FloatOp
{
    public override string OpType => "ConvTranspose";

    public override Tensor Evaluate(IReadOnlyList<Tensor> o) =>
        functional.conv_transpose2d(o[0], o[1], o.Count > 2 ? o[2] : null, Stride, Padding, OutputPadding, Dilation, Groups);

    public override string TorchScript(IReadOnlyList<string> o) =>
        $"torch.conv_transpose2d({o[0]}, {o[1]}, {(o.Count > 2 ? o[2] : "None")}, {ScriptInts(Stride)}, {ScriptInts(Padding)}, " +
        $"{ScriptInts(OutputPadding)}, {Groups}, {ScriptInts(Dilation)})";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands)
    {
        return sink.Node("ConvTranspose", operands,
            Ints("strides", Stride), Ints("pads", Padding.Concat(Padding)), Ints("output_padding", OutputPadding),
            Ints("dilations", Dilation), Int("group", Groups));
    }
}
