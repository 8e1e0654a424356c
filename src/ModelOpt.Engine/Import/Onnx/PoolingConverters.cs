using ModelOpt.Engine.Graph;
using Onnx;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>MaxPool, AveragePool (count_include_pad either way; ceil_mode), GlobalAveragePool and ReduceMean over H and W.</summary>
internal static class PoolingConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        ("MaxPool", MaxPool),
        ("AveragePool", AveragePool),
        ("GlobalAveragePool", (c, node) =>
        {
            var input = c.Data(node.Input[0]);
            c.Add(node.Output[0], v => new AdaptiveAvgPool2dNode(v, input, [1, 1]));
        }),
        ("ReduceMean", ReduceMean),
    ];

    private static void MaxPool(OnnxConversion c, NodeProto node)
    {
        if (node.Output.Count > 1 && c.Readers(node.Output[1]) > 0)
        {
            throw new OnnxNodeNotSupportedException("MaxPool's indices output is not mapped.");
        }
        if ((node.Ints("dilations") ?? [1, 1]).Any(d => d != 1))
        {
            throw new OnnxNodeNotSupportedException("dilated MaxPool is not mapped.");
        }
        var (input, kernel, strides, padding) = Window(c, node);
        var ceilMode = node.Int("ceil_mode", 0) != 0;
        c.Add(node.Output[0], v => new MaxPool2dNode(v, input, kernel, strides, padding, ceilMode));
    }

    /// <summary>torch.onnx writes count_include_pad=True as a zero Pad in front of an unpadded AveragePool; both forms are read.</summary>
    private static void AveragePool(OnnxConversion c, NodeProto node)
    {
        var (input, padded) = c.DataWithPad(node.Input[0]);
        var (_, kernel, strides, padding) = Window(c, node, input);
        var countIncludePad = node.Int("count_include_pad", 0) != 0;
        if (padded.Any(p => p != 0))
        {
            if (padded[0] != padded[2] || padded[1] != padded[3] || (padding.Any(p => p != 0) && !countIncludePad))
            {
                throw new OnnxNodeNotSupportedException("a Pad before AveragePool is mapped only when symmetric and the pool counts padding.");
            }
            (padding, countIncludePad) = ([padding[0] + padded[0], padding[1] + padded[1]], true);
        }
        var ceilMode = node.Int("ceil_mode", 0) != 0;
        c.Add(node.Output[0], v => new AvgPool2dNode(v, input, kernel, strides, padding, countIncludePad, ceilMode));
    }

    private static (GraphValue Input, long[] Kernel, long[] Strides, long[] Padding) Window(OnnxConversion c, NodeProto node, GraphValue? input = null)
    {
        ConvolutionConverters.RequireNoAutoPad(node);
        var kernel = node.Ints("kernel_shape") ?? [];
        if (kernel.Length != 2)
        {
            throw new OnnxNodeNotSupportedException("only 2-D pooling is mapped.");
        }
        var pads = ConvolutionConverters.Spatial(node.Ints("pads") ?? [0, 0, 0, 0], "pads");
        if (pads[0] != pads[2] || pads[1] != pads[3])
        {
            throw new OnnxNodeNotSupportedException("asymmetric pooling pads are not mapped.");
        }
        return (input ?? c.Data(node.Input[0]), kernel, node.Ints("strides") ?? [1, 1], [pads[0], pads[1]]);
    }

    /// <summary>The mean over H and W of an (N, C, H, W) value: global average pooling, flattened unless keepdims.</summary>
    private static void ReduceMean(OnnxConversion c, NodeProto node)
    {
        var input = c.Data(node.Input[0]);
        var axes = node.Ints("axes") ?? (node.OptionalInput(1) is { } name ? c.Constant(name).data<long>().ToArray() : null);
        var rank = c.ShapeOf(input).Length;
        var normalized = axes?.Select(a => a < 0 ? a + rank : a).Order().ToArray();
        if (rank != 4 || normalized is not [2, 3])
        {
            throw new OnnxNodeNotSupportedException("ReduceMean is mapped only over the H and W axes of an (N, C, H, W) value.");
        }
        var keepDims = node.Int("keepdims", 1) != 0;
        if (keepDims)
        {
            c.Add(node.Output[0], v => new AdaptiveAvgPool2dNode(v, input, [1, 1]));
            return;
        }
        var pooled = c.Add(node.Output[0] + "#pooled", v => new AdaptiveAvgPool2dNode(v, input, [1, 1]));
        c.Add(node.Output[0], v => new FlattenNode(v, pooled, 1));
    }
}
