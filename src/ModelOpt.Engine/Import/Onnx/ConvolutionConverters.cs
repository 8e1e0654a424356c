using ModelOpt.Engine.Graph;
using Onnx;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>Conv (groups, dilation, pads, strides, bias; a zero Pad in front folded in) and BatchNormalization.</summary>
internal static class ConvolutionConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        ("Conv", Conv),
        ("BatchNormalization", BatchNormalization),
        ("Pad", Pad),
    ];

    private static void Conv(OnnxConversion c, NodeProto node)
    {
        var weight = c.Constant(node.Input[1]);
        if (weight.dim() != 4)
        {
            throw new OnnxNodeNotSupportedException($"only 2-D convolutions are mapped; this one has a {weight.dim()}-d weight.");
        }
        RequireNoAutoPad(node);
        var (input, padded) = c.DataWithPad(node.Input[0]);
        var pads = Spatial(node.Ints("pads") ?? [0, 0, 0, 0], "pads");
        long[] padding = [pads[0] + padded[0], pads[1] + padded[1]];
        if (pads[0] + padded[0] != pads[2] + padded[2] || pads[1] + padded[1] != pads[3] + padded[3])
        {
            throw new OnnxNodeNotSupportedException("asymmetric padding is not mapped (PyTorch convolutions pad both sides alike).");
        }
        var strides = node.Ints("strides") ?? [1, 1];
        var dilations = node.Ints("dilations") ?? [1, 1];
        var groups = node.Int("group", 1);
        var bias = node.OptionalInput(2) is { } b ? c.Own(c.Constant(b)) : null;
        c.Add(node.Output[0], v => new Conv2dNode(v, c.NodeName, input, c.Own(weight), bias, strides, padding, dilations, groups));
    }

    private static void BatchNormalization(OnnxConversion c, NodeProto node)
    {
        if (node.Int("training_mode", 0) != 0 || node.Output.Skip(1).Any(o => o.Length > 0 && c.Readers(o) > 0))
        {
            throw new OnnxNodeNotSupportedException("only inference-mode BatchNormalization is mapped (export the model in eval mode).");
        }
        var input = c.Data(node.Input[0]);
        if (c.Producer(input) is not Conv2dNode || c.Readers(node.Input[0]) != 1)
        {
            // Quantization folds BatchNorm into the conv before it; nothing else can hold it.
            throw new OnnxNodeNotSupportedException("BatchNormalization is mapped only right after a Conv whose output it alone reads.");
        }
        var eps = node.Float("epsilon", 1e-5f);
        c.Add(node.Output[0], v => new BatchNorm2dNode(
            v, c.NodeName, input, c.Own(c.Constant(node.Input[3])), c.Own(c.Constant(node.Input[4])),
            c.Own(c.Constant(node.Input[1])), c.Own(c.Constant(node.Input[2])), eps));
    }

    /// <summary>A constant zero Pad of H and W only, kept aside until the Conv that reads it absorbs it.</summary>
    private static void Pad(OnnxConversion c, NodeProto node)
    {
        var mode = node.String("mode", "constant");
        var pads = c.Opset >= 11 ? c.Constant(node.Input[1]).data<long>().ToArray() : node.Ints("pads") ?? [];
        var value = c.Opset >= 11
            ? node.OptionalInput(2) is { } v ? c.Constant(v).to_type(ScalarType.Float32).item<float>() : 0f
            : node.Float("value", 0f);
        if (mode != "constant" || value != 0 || pads.Length != 8 || pads[0] != 0 || pads[1] != 0 || pads[4] != 0 || pads[5] != 0)
        {
            throw new OnnxNodeNotSupportedException("only a zero, constant-mode Pad of the height and width axes is mapped, and only before a Conv.");
        }
        c.AddPad(node.Output[0], node.Input[0], [pads[2], pads[3], pads[6], pads[7]]);
    }

    internal static void RequireNoAutoPad(NodeProto node)
    {
        if (node.String("auto_pad", "NOTSET") is not ("NOTSET" or "VALID"))
        {
            throw new OnnxNodeNotSupportedException("auto_pad SAME_UPPER / SAME_LOWER is not mapped; export with explicit pads.");
        }
    }

    /// <summary>ONNX 2-D pads: [top, left, bottom, right].</summary>
    internal static long[] Spatial(long[] values, string attribute) =>
        values.Length == 4 ? values : throw new OnnxNodeNotSupportedException($"'{attribute}' must have 4 entries for a 2-D op, it has {values.Length}.");
}
