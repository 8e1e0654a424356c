using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Graph.FloatOps;
using Onnx;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// MaxPool, AveragePool (count_include_pad either way; ceil_mode; pads of any size, asymmetric ones through an explicit
/// Pad), GlobalAveragePool, GlobalMaxPool and the reductions (ReduceMean over H and W is average pooling).
/// </summary>
internal static class PoolingConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        ("MaxPool", MaxPool),
        ("AveragePool", AveragePool),
        ("GlobalAveragePool", (c, node) => GlobalPool(c, node, "ReduceMean")),
        ("GlobalMaxPool", (c, node) => GlobalPool(c, node, "ReduceMax")),
        .. ReduceOp.Types.Select(t => (t, (OnnxConverter)((c, node) => Reduce(c, node, t)))),
    ];

    private static void MaxPool(OnnxConversion c, NodeProto node)
    {
        if (node.Output.Count > 1 && node.Output[1].Length > 0 && c.Readers(node.Output[1]) > 0)
        {
            throw new OnnxNodeNotSupportedException("MaxPool's indices output is not mapped.");
        }
        if ((node.Ints("dilations") ?? []).Any(d => d != 1))
        {
            throw new OnnxNodeNotSupportedException("dilated MaxPool is not mapped.");
        }
        var (input, kernel, strides, pads) = Window(c, node, c.Data(node.Input[0]));
        var ceilMode = node.Int("ceil_mode", 0) != 0;
        if (PoolPadding(kernel, pads) is { } padding)
        {
            c.Add(node.Output[0], v => new MaxPool2dNode(v, input, kernel, strides, padding, ceilMode));
            return;
        }
        // Pads PyTorch's pooling cannot take (asymmetric, or more than half the kernel): -inf padding in front.
        var padded = ExplicitPad(c, node, input, pads, float.NegativeInfinity, ceilMode);
        c.Add(node.Output[0], v => new MaxPool2dNode(v, padded, kernel, strides, [0, 0], ceilMode));
    }

    /// <summary>torch.onnx writes count_include_pad=True as a zero Pad in front of an unpadded AveragePool; both forms are read.</summary>
    private static void AveragePool(OnnxConversion c, NodeProto node)
    {
        var (source, padded) = c.DataWithPad(node.Input[0]);
        var (input, kernel, strides, pads) = Window(c, node, source);
        var countIncludePad = node.Int("count_include_pad", 0) != 0;
        var ceilMode = node.Int("ceil_mode", 0) != 0;
        if (padded.Any(p => p != 0))
        {
            if (pads.Any(p => p != 0) && !countIncludePad)
            {
                throw new OnnxNodeNotSupportedException("a Pad before an AveragePool that pads without counting the padding is not mapped.");
            }
            (pads, countIncludePad) = ([pads[0] + padded[0], pads[1] + padded[1], pads[2] + padded[2], pads[3] + padded[3]], true);
        }
        if (PoolPadding(kernel, pads) is { } padding)
        {
            c.Add(node.Output[0], v => new AvgPool2dNode(v, input, kernel, strides, padding, countIncludePad, ceilMode));
            return;
        }
        var explicitPad = ExplicitPad(c, node, input, pads, 0, ceilMode);
        if (countIncludePad)
        {
            c.Add(node.Output[0], v => new AvgPool2dNode(v, explicitPad, kernel, strides, [0, 0], true, ceilMode));
            return;
        }
        // Padding not counted: the zero-padded average divided by the share of each window inside the input.
        var pooled = c.Add(c.Intermediate(node.Output[0], "pooled"), v => new AvgPool2dNode(v, explicitPad, kernel, strides, [0, 0], true, ceilMode));
        var shape = c.ShapeOf(input);
        using var ones = torch.ones(1, 1, shape[2], shape[3]);
        using var paddedOnes = TorchSharp.torch.nn.functional.pad(ones, [pads[1], pads[3], pads[0], pads[2]]);
        var share = TorchSharp.torch.nn.functional.avg_pool2d(paddedOnes, kernel, strides, [0, 0], ceil_mode: ceilMode, count_include_pad: true);
        var shareName = c.Intermediate(node.Output[0], "share");
        c.SetConstant(shareName, share);
        var pooledName = c.Intermediate(node.Output[0], "pooled");
        c.Apply(node.Output[0], new ElementwiseOp("Div"), [pooledName, shareName]);
    }

    /// <summary>PyTorch's pooling padding when the ONNX pads are symmetric and at most half the kernel; null otherwise.</summary>
    private static long[]? PoolPadding(long[] kernel, long[] pads) =>
        pads[0] == pads[2] && pads[1] == pads[3] && pads[0] <= kernel[0] / 2 && pads[1] <= kernel[1] / 2 ? [pads[0], pads[1]] : null;

    private static GraphValue ExplicitPad(OnnxConversion c, NodeProto node, GraphValue input, long[] pads, double value, bool ceilMode)
    {
        if (ceilMode)
        {
            throw new OnnxNodeNotSupportedException("ceil_mode with asymmetric pads or pads larger than half the kernel is not mapped.");
        }
        long[] onnxPads = [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]];
        return c.AddOp(c.Intermediate(node.Output[0], "pad"), new PadOp("constant", onnxPads, [pads[1], pads[3], pads[0], pads[2]], value), [input]);
    }

    /// <summary>Kernel, strides and ONNX pads [top, left, bottom, right] of a 2-D pooling window, auto_pad resolved.</summary>
    private static (GraphValue Input, long[] Kernel, long[] Strides, long[] Pads) Window(OnnxConversion c, NodeProto node, GraphValue input)
    {
        var kernel = node.Ints("kernel_shape") ?? [];
        if (kernel.Length != 2 || c.ShapeOf(input).Length != 4)
        {
            throw new OnnxNodeNotSupportedException($"only 2-D pooling is mapped; this one is {kernel.Length}-D.");
        }
        var strides = node.Ints("strides") ?? [1, 1];
        var pads = ConvolutionConverters.Pads(node, c.ShapeOf(input)[2..], kernel, strides, [1, 1]);
        return (input, kernel, strides, pads);
    }

    private static void GlobalPool(OnnxConversion c, NodeProto node, string reduction)
    {
        var input = c.Data(node.Input[0]);
        var rank = c.ShapeOf(input).Length;
        if (rank == 4 && reduction == "ReduceMean")
        {
            c.Add(node.Output[0], v => new AdaptiveAvgPool2dNode(v, input, [1, 1]));
            return;
        }
        c.Apply(node.Output[0], new ReduceOp(reduction, [.. Enumerable.Range(2, rank - 2).Select(i => (long)i)], KeepDims: true), [node.Input[0]]);
    }

    /// <summary>
    /// axes an attribute, or (ReduceSum from opset 13, the others from 18) an input; none means all axes unless
    /// noop_with_empty_axes. The mean over H and W of an (N, C, H, W) value is average pooling (int8).
    /// </summary>
    private static void Reduce(OnnxConversion c, NodeProto node, string type)
    {
        var name = node.Input[0];
        var rank = c.IsConstant(name) ? c.Constant(name).dim() : c.ShapeOf(c.Data(name)).Length;
        var axes = ShapeConverters.Axes(c, node, 1);
        var keepDims = node.Int("keepdims", 1) != 0;
        if (axes is null or { Length: 0 })
        {
            if (node.Int("noop_with_empty_axes", 0) != 0)
            {
                c.Alias(node.Output[0], name);
                return;
            }
            axes = [.. Enumerable.Range(0, (int)rank).Select(i => (long)i)];
        }
        var normalized = axes.Select(a => FloatOp.NormalizeAxis(a, rank)).Order().ToArray();
        if (type == "ReduceMean" && rank == 4 && normalized is [2, 3] && c.IsData(name))
        {
            var input = c.Data(name);
            if (keepDims)
            {
                c.Add(node.Output[0], v => new AdaptiveAvgPool2dNode(v, input, [1, 1]));
                return;
            }
            var pooled = c.Add(c.Intermediate(node.Output[0], "pooled"), v => new AdaptiveAvgPool2dNode(v, input, [1, 1]));
            c.Add(node.Output[0], v => new FlattenNode(v, pooled, 1));
            return;
        }
        c.Apply(node.Output[0], new ReduceOp(type, normalized, keepDims), [name]);
    }
}
