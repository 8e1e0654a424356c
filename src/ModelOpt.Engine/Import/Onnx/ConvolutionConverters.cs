using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Graph.FloatOps;
using Onnx;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// Conv (groups, dilation, pads of any form, auto_pad, bias; a zero Pad in front folded in), ConvTranspose (FP32),
/// BatchNormalization (folded into the conv it follows, else a FP32 scale and shift), InstanceNormalization,
/// LayerNormalization and Pad in every mode.
/// </summary>
internal static class ConvolutionConverters
{
    public static IEnumerable<(string OpType, OnnxConverter Convert)> All =>
    [
        ("Conv", Conv),
        ("ConvTranspose", ConvTranspose),
        ("BatchNormalization", BatchNormalization),
        ("InstanceNormalization", (c, node) =>
            c.Apply(node.Output[0], new InstanceNormOp(node.Float("epsilon", 1e-5f)), [node.Input[0], node.Input[1], node.Input[2]])),
        ("LayerNormalization", LayerNormalization),
        ("Pad", Pad),
    ];

    private static void Conv(OnnxConversion c, NodeProto node)
    {
        var weight = c.Constant(node.Input[1]);
        if (weight.dim() != 4)
        {
            throw new OnnxNodeNotSupportedException($"only 2-D convolutions are mapped; this one is {weight.dim() - 2}-D.");
        }
        var (input, padded) = c.DataWithPad(node.Input[0]);
        var strides = node.Ints("strides") ?? [1, 1];
        var dilations = node.Ints("dilations") ?? [1, 1];
        var groups = node.Int("group", 1);
        var own = Pads(node, c.ShapeOf(input)[2..], weight.shape[2..], strides, dilations);
        long[] pads = [.. own.Select((p, i) => p + padded[i])];
        long[] padding = [pads[0], pads[1]];
        if (pads[0] != pads[2] || pads[1] != pads[3])
        {
            // PyTorch pads both sides alike: an asymmetric padding goes in front as a Pad of its own.
            input = c.AddOp(c.Intermediate(node.Output[0], "pad"),
                new PadOp("constant", [0, 0, pads[0], pads[1], 0, 0, pads[2], pads[3]], [pads[1], pads[3], pads[0], pads[2]], 0), [input]);
            padding = [0, 0];
        }
        var bias = node.OptionalInput(2) is { } b ? c.Own(c.Constant(b)) : null;
        var conv = input;
        c.Add(node.Output[0], v => new Conv2dNode(v, c.NodeName, conv, c.Own(weight), bias, strides, padding, dilations, groups));
    }

    /// <summary>
    /// ONNX pads [begin..., end...] of a 2-D window: the attribute, or auto_pad's SAME_UPPER / SAME_LOWER (output =
    /// ceil(input / stride), the odd unit at the end or the beginning) or VALID (none).
    /// </summary>
    internal static long[] Pads(NodeProto node, long[] spatial, long[] kernel, long[] strides, long[] dilations)
    {
        var autoPad = node.String("auto_pad", "NOTSET");
        if (autoPad is "NOTSET")
        {
            var pads = node.Ints("pads") ?? [0, 0, 0, 0];
            return pads.Length == 4 ? pads : throw new OnnxNodeNotSupportedException($"'pads' must have 4 entries for a 2-D op, it has {pads.Length}.");
        }
        if (autoPad is "VALID")
        {
            return [0, 0, 0, 0];
        }
        var result = new long[4];
        for (var i = 0; i < 2; i++)
        {
            var output = (spatial[i] + strides[i] - 1) / strides[i];
            var total = Math.Max(0, (output - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i]);
            var small = total / 2;
            (result[i], result[i + 2]) = autoPad == "SAME_LOWER" ? (total - small, small) : (small, total - small);
        }
        return result;
    }

    /// <summary>ConvTranspose in FP32 (2-D); asymmetric pads and output_shape become a crop after an unpadded one.</summary>
    private static void ConvTranspose(OnnxConversion c, NodeProto node)
    {
        var weight = c.Constant(node.Input[1]);
        if (weight.dim() != 4)
        {
            throw new OnnxNodeNotSupportedException($"only 2-D transposed convolutions are mapped; this one is {weight.dim() - 2}-D.");
        }
        var input = c.Data(node.Input[0]);
        var spatial = c.ShapeOf(input)[2..];
        var strides = node.Ints("strides") ?? [1, 1];
        var dilations = node.Ints("dilations") ?? [1, 1];
        var outputPadding = node.Ints("output_padding") ?? [0, 0];
        var groups = node.Int("group", 1);
        var autoPad = node.String("auto_pad", "NOTSET");
        var kernel = weight.shape[2..];
        var pads = node.Ints("pads") ?? [0, 0, 0, 0];
        var outputShape = node.Ints("output_shape");
        if (outputShape is not null || autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            var target = outputShape is { Length: >= 2 } ? outputShape[^2..] : [spatial[0] * strides[0], spatial[1] * strides[1]];
            for (var i = 0; i < 2; i++)
            {
                var total = strides[i] * (spatial[i] - 1) + outputPadding[i] + (kernel[i] - 1) * dilations[i] + 1 - target[i];
                if (total < 0)
                {
                    // A larger output_shape: the extra rows and columns are the output padding.
                    outputPadding[i] -= total;
                    (pads[i], pads[i + 2]) = (0, 0);
                    continue;
                }
                (pads[i], pads[i + 2]) = autoPad == "SAME_UPPER" ? (total / 2, total - total / 2) : (total - total / 2, total / 2);
            }
        }
        var operands = new List<string> { node.Input[0], node.Input[1] };
        if (node.OptionalInput(2) is { } bias)
        {
            operands.Add(bias);
        }
        if (pads[0] == pads[2] && pads[1] == pads[3])
        {
            c.Apply(node.Output[0], new ConvTransposeOp(strides, [pads[0], pads[1]], outputPadding, dilations, groups), operands);
            return;
        }
        var full = c.Intermediate(node.Output[0], "full");
        c.Apply(full, new ConvTransposeOp(strides, [0, 0], outputPadding, dilations, groups), operands);
        var fullShape = c.ShapeOf(c.Data(full));
        var rows = c.Intermediate(node.Output[0], "rows");
        c.Apply(rows, new NarrowOp(2, pads[0], fullShape[2] - pads[0] - pads[2]), [full]);
        c.Apply(node.Output[0], new NarrowOp(3, pads[1], fullShape[3] - pads[1] - pads[3]), [rows]);
    }

    private static void BatchNormalization(OnnxConversion c, NodeProto node)
    {
        if (node.Int("training_mode", 0) != 0 || node.Output.Skip(1).Any(o => o.Length > 0 && c.Readers(o) > 0))
        {
            throw new OnnxNodeNotSupportedException("only inference-mode BatchNormalization is mapped (export the model in eval mode).");
        }
        if (c.Opset < 7 && node.Int("spatial", 1) == 0)
        {
            throw new OnnxNodeNotSupportedException("BatchNormalization with spatial=0 (opsets below 7) is not mapped.");
        }
        var eps = node.Float("epsilon", 1e-5f);
        if (c.IsData(node.Input[0]) && c.Producer(c.Data(node.Input[0])) is Conv2dNode && c.Readers(node.Input[0]) == 1)
        {
            // Folded into the conv by quantization's BN folding.
            var input = c.Data(node.Input[0]);
            c.Add(node.Output[0], v => new BatchNorm2dNode(
                v, c.NodeName, input, c.Own(c.Constant(node.Input[3])), c.Own(c.Constant(node.Input[4])),
                c.Own(c.Constant(node.Input[1])), c.Own(c.Constant(node.Input[2])), eps));
            return;
        }
        c.Apply(node.Output[0], new BatchNormOp(eps), [.. node.Input.Take(5)]);
    }

    private static void LayerNormalization(OnnxConversion c, NodeProto node)
    {
        if (node.Output.Skip(1).Any(o => o.Length > 0 && c.Readers(o) > 0))
        {
            throw new OnnxNodeNotSupportedException("LayerNormalization's Mean and InvStdDev outputs are not mapped.");
        }
        var name = node.Input[0];
        var rank = c.IsConstant(name) ? c.Constant(name).dim() : c.ShapeOf(c.Data(name)).Length;
        var axis = FloatOp.NormalizeAxis(node.Int("axis", -1), rank);
        var bias = node.OptionalInput(2);
        c.Apply(node.Output[0], new LayerNormOp(axis, node.Float("epsilon", 1e-5f), bias is not null),
            bias is null ? [name, node.Input[1]] : [name, node.Input[1], bias]);
    }

    /// <summary>
    /// Pad in every mode (constant, reflect, edge, wrap), pads as an attribute (before opset 11) or an input, with
    /// optional axes (opset 18). A zero pad of H and W is kept aside for the Conv that reads it.
    /// </summary>
    private static void Pad(OnnxConversion c, NodeProto node)
    {
        var name = node.Input[0];
        var rank = c.IsConstant(name) ? c.Constant(name).dim() : c.ShapeOf(c.Data(name)).Length;
        var mode = node.String("mode", "constant");
        var given = c.Opset >= 11 ? c.Constant(node.Input[1]).to_type(ScalarType.Int64).data<long>().ToArray() : node.Ints("pads") ?? node.Ints("paddings") ?? [];
        var value = c.Opset >= 11
            ? node.OptionalInput(2) is { } v ? c.Constant(v).to_type(ScalarType.Float32).item<float>() : 0f
            : node.Float("value", 0f);
        var axes = node.OptionalInput(3) is { } a
            ? c.Constant(a).to_type(ScalarType.Int64).data<long>().Select(x => FloatOp.NormalizeAxis(x, rank)).ToArray()
            : [.. Enumerable.Range(0, (int)rank).Select(i => (long)i)];
        if (given.Length != 2 * axes.Length)
        {
            throw new OnnxNodeNotSupportedException($"Pad has {given.Length} pads for {axes.Length} axes.");
        }
        var pads = new long[2 * rank];
        for (var i = 0; i < axes.Length; i++)
        {
            (pads[axes[i]], pads[axes[i] + rank]) = (given[i], given[i + axes.Length]);
        }
        if (mode == "constant" && value == 0 && rank == 4 && c.IsData(name) && pads.All(p => p >= 0)
            && pads[0] == 0 && pads[1] == 0 && pads[4] == 0 && pads[5] == 0)
        {
            c.AddPad(node.Output[0], name, [pads[2], pads[3], pads[6], pads[7]]);
            return;
        }
        // torch's order: the last axis first, trimmed to the padded trailing axes.
        var first = Enumerable.Range(0, (int)rank).FirstOrDefault(i => pads[i] != 0 || pads[i + rank] != 0, (int)rank);
        var torchPads = Enumerable.Range(first, (int)rank - first).Reverse().SelectMany(i => new[] { pads[i], pads[i + rank] }).ToArray();
        if (torchPads.Length == 0)
        {
            c.Alias(node.Output[0], name);
            return;
        }
        var padded = torchPads.Length / 2;
        if (mode != "constant" && (padded > 3 || rank > padded + 2 || torchPads.Any(p => p < 0)))
        {
            throw new OnnxNodeNotSupportedException($"a {mode} Pad is mapped on the last 1 to 3 axes of a value with at most two more axes, without negative pads.");
        }
        if (mode is not ("constant" or "reflect" or "edge" or "wrap"))
        {
            throw new OnnxNodeNotSupportedException($"Pad mode '{mode}' is not an ONNX mode.");
        }
        c.Apply(node.Output[0], new PadOp(mode, pads, torchPads, value), [name]);
    }
}
