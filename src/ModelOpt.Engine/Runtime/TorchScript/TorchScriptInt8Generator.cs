using System.Globalization;
using System.Text;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;

namespace ModelOpt.Engine.Runtime.TorchScript;

/// <summary>
/// Turns a <see cref="QuantizedGraph"/> into TorchScript over LibTorch's int8 CPU kernels. <c>forward</c> takes and
/// returns float tensors: it quantizes the input, runs <c>quantized::conv2d(_relu)</c>, <c>add(_relu)</c>, <c>cat</c>
/// and <c>linear(_relu)</c> with each output's calibrated scale/zero point, pools, clamps and flattens on quantized
/// tensors, runs the ops without an int8 kernel in FP32 between dequantize and quantize, and dequantizes the output (a
/// graph with several outputs returns them as a tuple, in graph order). <c>setup</c> prepacks the int8 weights once.
/// </summary>
/// <remarks>
/// LibTorch aborts the process on a TorchScript compile error, so everything that could make the source invalid is
/// checked here, in C#: node kinds, missing quantization or weights, dtypes, non-finite numbers, empty int lists.
/// Identifiers come only from sanitized node names and value ids; numbers are written in invariant culture.
/// </remarks>
public static class TorchScriptInt8Generator
{
    public const string ClassName = "ModelOptInt8Model";

    internal const string ConvPacked = "conv_packed";
    internal const string LinearPacked = "linear_packed";
    private const string FloatParams = "float_params";

    /// <summary>How <see cref="TorchScriptInt8Source.FloatTensors"/> names a <see cref="ConstantNode"/>'s value: prefix + value id.</summary>
    internal const string ConstantTensorPrefix = "constant:";
    internal const string PackedParams = "__torch__.torch.classes.quantized";

    public static TorchScriptInt8Source Generate(QuantizedGraph quantized)
    {
        var graph = quantized.Graph;
        var names = new Dictionary<GraphValue, string>();
        var taken = new HashSet<string>();
        var layers = new List<string>();
        var biased = new List<string>();
        var floatTensors = new List<string>();
        var setup = new StringBuilder();
        var forward = new StringBuilder();
        var convCount = 0;
        var linearCount = 0;

        // A value is held either quantized (names) or, when it stays FP32, as a float tensor; FP32 ops read the
        // dequantized form of quantized inputs, emitted once per value.
        var floats = new Dictionary<GraphValue, string>();
        string Int8(GraphValue value) => quantized.TryQuantizationOf(value) is not null
            ? names[value]
            : throw new InvalidOperationException($"Value {value} feeds an int8 kernel but has no quantization.");
        string FloatOf(GraphValue value)
        {
            if (quantized.TryQuantizationOf(value) is null)
            {
                return names[value];
            }
            if (!floats.TryGetValue(value, out var name))
            {
                name = floats[value] = FloatName(names[value]);
                forward.AppendLine($"    {name} = torch.dequantize({names[value]})");
            }
            return name;
        }

        foreach (var node in graph.Nodes)
        {
            var output = names[node.Output] = VariableName(node, taken);
            switch (node)
            {
                case var layer when quantized.IsKeptFloat(layer):
                    var floatLayer = FloatLayerOp(layer, FloatOf, quantized, floatTensors, setup);
                    forward.AppendLine($"    {FloatName(output)} = {floatLayer}");
                    EndFloat(forward, quantized, layer.Output, output);
                    break;
                case InputNode:
                    var input = Quantization(quantized, node.Output);
                    forward.AppendLine($"    {output} = torch.quantize_per_tensor(x, {Float(input.Scale)}, {input.ZeroPoint}, {DtypeCode(input.Dtype)})");
                    break;
                case Conv2dNode conv:
                    var convBias = AppendWeight(setup, quantized, conv.Name, layers, biased);
                    setup.AppendLine($"    self.{ConvPacked}.append(ops.quantized.conv2d_prepack(w, {convBias}, " +
                        $"{IntList(conv.Stride, conv.Name)}, {IntList(conv.Padding, conv.Name)}, {IntList(conv.Dilation, conv.Name)}, {conv.Groups}))");
                    var convOut = Quantization(quantized, conv.Output);
                    forward.AppendLine($"    {output} = ops.quantized.{(conv.Relu ? "conv2d_relu" : "conv2d")}(" +
                        $"{Int8(conv.Input)}, self.{ConvPacked}[{convCount++}], {Float(convOut.Scale)}, {convOut.ZeroPoint})");
                    break;
                case AddNode add:
                    var addOut = Quantization(quantized, add.Output);
                    forward.AppendLine($"    {output} = ops.quantized.{(add.Relu ? "add_relu" : "add")}(" +
                        $"{Int8(add.Left)}, {Int8(add.Right)}, {Float(addOut.Scale)}, {addOut.ZeroPoint})");
                    break;
                case ConcatNode concat:
                    var catOut = Quantization(quantized, concat.Output);
                    forward.AppendLine($"    {output} = ops.quantized.cat([{string.Join(", ", concat.Parts.Select(Int8))}], " +
                        $"{concat.Dim}, {Float(catOut.Scale)}, {catOut.ZeroPoint})");
                    break;
                case LinearNode linear:
                    var linearBias = AppendWeight(setup, quantized, linear.Name, layers, biased);
                    setup.AppendLine($"    self.{LinearPacked}.append(ops.quantized.linear_prepack(w, {linearBias}))");
                    var linearOut = Quantization(quantized, linear.Output);
                    forward.AppendLine($"    {output} = ops.quantized.{(linear.Relu ? "linear_relu" : "linear")}({Int8(linear.Input)}, " +
                        $"self.{LinearPacked}[{linearCount++}], {Float(linearOut.Scale)}, {linearOut.ZeroPoint})");
                    break;
                case MaxPool2dNode maxPool when quantized.TryQuantizationOf(maxPool.Input) is { } pooled
                    && SameQParams(pooled, Quantization(quantized, maxPool.Output))
                    && MaxPoolOnRaw(maxPool, () => $"r{output[1..]}", $"u{output[1..]}", $"t{output[1..]}") is { } poolLines:
                    forward.AppendLine($"    r{output[1..]} = {RawOf(graph, maxPool.Input, names[maxPool.Input])}");
                    forward.AppendJoin("", poolLines.Select(line => $"    {line}\n"));
                    forward.AppendLine($"    {output} = torch._make_per_tensor_quantized_tensor(u{output[1..]}, {Float(pooled.Scale)}, {pooled.ZeroPoint})");
                    break;
                case AvgPool2dNode avgPool when quantized.TryQuantizationOf(avgPool.Input) is not null
                    && AvgPoolInFloat(avgPool, names[avgPool.Input], Quantization(quantized, avgPool.Output)) is { } averaged:
                    forward.AppendLine($"    {output} = {averaged}");
                    break;
                case var shared when X86InductorQuantizer.SharesInputQuantization(shared):
                    // The same call on an int8 input (LibTorch's quantized kernel, input qparams kept) or an FP32 one.
                    var data = names[shared.Inputs[0]];
                    var isFloat = quantized.TryQuantizationOf(shared.Inputs[0]) is null;
                    // A data-movement op's further operand is the batch source, read only for its size(0), int8 or not.
                    var sharedOp = shared is FloatOpNode dataOp
                        ? dataOp.Op.TorchScript([data, .. dataOp.Operands.Skip(1).Select(v => names[v])])
                        : SharedOp(shared, data);
                    forward.AppendLine($"    {(isFloat ? FloatName(output) : output)} = {sharedOp}");
                    if (isFloat)
                    {
                        EndFloat(forward, quantized, shared.Output, output);
                    }
                    break;
                case ConstantNode constant:
                    // Constants travel with the float tensors setup keeps (self.float_params), in their own dtype.
                    floatTensors.Add(ConstantTensorPrefix + constant.Output.Id.ToString(CultureInfo.InvariantCulture));
                    setup.AppendLine($"    self.{FloatParams}.append({FloatParams}[{floatTensors.Count - 1}])");
                    forward.AppendLine($"    {FloatName(output)} = self.{FloatParams}[{floatTensors.Count - 1}]");
                    EndFloat(forward, quantized, constant.Output, output);
                    break;
                case var fp32 when X86InductorQuantizer.StaysFloat(fp32):
                    // Built first: FloatOf may emit a dequantize line, which must precede this one.
                    var expression = FloatOp(fp32, FloatOf);
                    forward.AppendLine($"    {FloatName(output)} = {expression}");
                    EndFloat(forward, quantized, fp32.Output, output);
                    break;
                default:
                    throw new NotSupportedException(
                        $"The TorchScript int8 backend has no kernel for {node.GetType().Name} ({node.Output}); fold and fuse the graph first.");
            }
        }
        string FloatOutput(GraphValue output) => quantized.TryQuantizationOf(output) is null ? names[output] : $"torch.dequantize({names[output]})";
        forward.AppendLine(graph.HasSeveralOutputs
            ? $"    return ({string.Join(", ", graph.Outputs.Select(FloatOutput))})"
            : $"    return {FloatOutput(graph.Output)}");

        var self = $"self: __torch__.{ClassName}";
        var source = new StringBuilder()
            .AppendLine($"class {ClassName}(Module):")
            .AppendLine("  __parameters__ = []")
            .AppendLine("  __buffers__ = []")
            .AppendLine("  training : bool")
            .AppendLine($"  {ConvPacked} : List[{PackedParams}.Conv2dPackedParamsBase]")
            .AppendLine($"  {LinearPacked} : List[{PackedParams}.LinearPackedParamsBase]")
            .AppendLine($"  {FloatParams} : List[Tensor]")
            .AppendLine($"  def setup({self}, weights: List[Tensor], scales: List[Tensor], zero_points: List[Tensor], biases: List[Tensor], " +
                $"{FloatParams}: List[Tensor]) -> None:")
            .AppendLine($"    self.{ConvPacked}.clear()")
            .AppendLine($"    self.{LinearPacked}.clear()")
            .AppendLine($"    self.{FloatParams}.clear()")
            .Append(setup)
            .AppendLine("    return None")
            .AppendLine($"  def forward({self}, x: Tensor) -> {(graph.HasSeveralOutputs ? $"Tuple[{string.Join(", ", graph.Outputs.Select(_ => "Tensor"))}]" : "Tensor")}:")
            .Append(forward)
            .ToString();
        return new TorchScriptInt8Source(ClassName, source, [ConvPacked, LinearPacked, FloatParams], layers, biased, floatTensors);
    }

    private static string FloatName(string output) => $"f_{output[2..]}";

    /// <summary>
    /// Names the FP32 result of an op that stays float: quantized to the value's observed qparams when an int8 kernel
    /// reads it, otherwise kept as the float tensor.
    /// </summary>
    private static void EndFloat(StringBuilder forward, QuantizedGraph quantized, GraphValue value, string output)
    {
        if (quantized.Activations.TryGetValue(value, out var q))
        {
            CheckQuantization(q, value);
            forward.AppendLine($"    {output} = torch.quantize_per_tensor({FloatName(output)}, {Float(q.Scale)}, {q.ZeroPoint}, {DtypeCode(q.Dtype)})");
        }
        else
        {
            forward.AppendLine($"    {output} = {FloatName(output)}");
        }
    }

    internal static string SharedOp(GraphNode node, string x) => node switch
    {
        AdaptiveAvgPool2dNode pool => $"torch.adaptive_avg_pool2d({x}, {IntList(pool.OutputSize, "adaptive_avg_pool2d")})",
        MaxPool2dNode pool => $"torch.max_pool2d({x}, {IntList(pool.KernelSize, "max_pool2d")}, " +
            $"{IntList(pool.Stride.Length == 0 ? pool.KernelSize : pool.Stride, "max_pool2d")}, {IntList(pool.Padding, "max_pool2d")}, [1, 1], {Bool(pool.CeilMode)})",
        AvgPool2dNode pool => $"torch.avg_pool2d({x}, {IntList(pool.KernelSize, "avg_pool2d")}, " +
            $"{IntList(pool.Stride.Length == 0 ? pool.KernelSize : pool.Stride, "avg_pool2d")}, {IntList(pool.Padding, "avg_pool2d")}, " +
            $"{Bool(pool.CeilMode)}, {Bool(pool.CountIncludePad)}, None)",
        FlattenNode flatten => $"torch.flatten({x}, {flatten.StartDim})",
        ClampNode clamp => $"torch.clamp({x}, {Float(clamp.Min)}, {Float(clamp.Max)})",
        ReLUNode => $"torch.relu({x})",
        _ => throw new NotSupportedException($"No TorchScript op for {node.GetType().Name}."),
    };

    internal static bool SameQParams(ActivationQuantization left, ActivationQuantization right) =>
        left.Scale == right.Scale && left.ZeroPoint == right.ZeroPoint;

    /// <summary>
    /// A max pool on the plain uint8 values of a quantized tensor (same qparams in and out, so the order of the values is
    /// the order of the reals): the window's maximum as elementwise maxima of shifted, strided slices, along W and then H,
    /// after padding with 0, the smallest uint8 (PyTorch requires padding &lt;= half the kernel, so every window holds a
    /// real value). Bit-identical to <c>quantized::max_pool2d</c>, whose NHWC kernel is slow at few channels (issue 28 probe,
    /// docs/BENCHMARKS.md). Returns the lines that assign
    /// <paramref name="result"/> from <paramref name="raw"/>, using names that start with <paramref name="temp"/>; null
    /// for a pool it does not cover (<see cref="SlicedWindowStride"/>), which keeps LibTorch's kernel;
    /// <paramref name="raw"/> is called only for a pool this covers.
    /// </summary>
    internal static IReadOnlyList<string>? MaxPoolOnRaw(MaxPool2dNode pool, Func<string> raw, string result, string temp)
    {
        if (SlicedWindowStride(pool.KernelSize, pool.Stride, pool.Padding, pool.CeilMode) is not { } stride)
        {
            return null;
        }
        var lines = new List<string>();
        var padded = raw();
        if (pool.Padding[0] > 0 || pool.Padding[1] > 0)
        {
            lines.Add($"{temp}_pad = torch.constant_pad_nd({padded}, [{pool.Padding[1]}, {pool.Padding[1]}, {pool.Padding[0]}, {pool.Padding[0]}], 0.)");
            padded = $"{temp}_pad";
        }
        static string Maximum(string left, string right) => $"torch.maximum({left}, {right})";
        lines.Add($"{temp}_w = {WindowReduce(padded, ":, :, :, ", pool.KernelSize[1], stride[1], Maximum)}");
        lines.Add($"{result} = {WindowReduce($"{temp}_w", ":, :, ", pool.KernelSize[0], stride[0], Maximum)}");
        return lines;
    }

    /// <summary>
    /// The stride of a 2-D pool window that <see cref="WindowReduce"/>'s slices can compute (an empty stride is the kernel);
    /// null for ceil mode, lists of another length, and padding over half the kernel, where a padded window could hold no
    /// real value.
    /// </summary>
    private static long[]? SlicedWindowStride(long[] kernel, long[] stride, long[] padding, bool ceilMode)
    {
        var effective = stride.Length == 0 ? kernel : stride;
        return ceilMode || kernel.Length != 2 || effective.Length != 2 || padding.Length != 2
            || kernel.Any(k => k < 1) || effective.Any(s => s < 1) || padding.Any(p => p < 0)
            || 2 * padding[0] > kernel[0] || 2 * padding[1] > kernel[1]
            ? null
            : effective;
    }

    /// <summary>
    /// The kernel's shifted, strided slices of <paramref name="source"/> along one axis, combined: slice j of k starts
    /// at j and stops k - 1 - j before the end, one element per output position.
    /// </summary>
    private static string WindowReduce(string source, string prefix, long kernel, long step, Func<string, string, string> combine)
    {
        string Slice(long j) => $"{source}[{prefix}{j}:{(j - kernel + 1 < 0 ? (j - kernel + 1).ToString(CultureInfo.InvariantCulture) : "")}:{step}]";
        var expression = Slice(0);
        for (var j = 1L; j < kernel; j++)
        {
            expression = combine(expression, Slice(j));
        }
        return expression;
    }

    /// <summary>
    /// An average pool on the plain uint8 values of a quantized tensor whose output keeps its qparams (scale s, zero
    /// point z), over few channels, where LibTorch's NHWC pools are slowest (issue 28 probe,
    /// docs/BENCHMARKS.md): the window sums h as int16 sums of shifted, strided slices along W and then H of the values
    /// padded with z (a counted pad is a real 0), then one rounding by <c>quantize_per_tensor</c> at scale D, the
    /// divisor. With S = Σ(q - z) over a window, the exact average is z + S/D in steps. Bit-identical to the path it replaces:
    /// <list type="bullet">
    /// <item>D odd (3x3; the FP32 path of <see cref="AvgPoolInFloat"/>): S/D is at least 1/(2D) from a half, so any
    /// rounding gives the nearest integer. The FP32 path computes S/D with an error below (D + 3)·255·2^-24 steps (the
    /// dequantized products, a D-term float sum and its division, quantize's product, each relative 2^-24 of at most 255
    /// steps), less than 1/(2D) for D ≤ 127: it gives z + round(S/D), and so does <c>quantize_per_tensor(h, D, 0)</c>
    /// (h/D = z + S/D, 1/D's float error as small).</item>
    /// <item>D a power of two (2x2; LibTorch's quantized kernel): 1/D is exact, so (h - D·z)/D = S/D is rounded half to
    /// even, as LibTorch's kernel rounds S times its multiplier s/s/D = 1/D; the zero point is added after the rounding
    /// (an odd z would otherwise flip ties).</item>
    /// </list>
    /// Null for another pool (ceil mode, a divisor that varies at padded edges, another D, 32 channels or more or unknown),
    /// which keeps its current path; <paramref name="raw"/> is called only for a pool this covers.
    /// </summary>
    internal static IReadOnlyList<string>? AvgPoolOnRaw(
        AvgPool2dNode pool, long? channels, long zeroPoint, Func<string> raw, string result, string temp)
    {
        if (channels is not (> 0 and < IntegerPoolChannels) || (!pool.CountIncludePad && pool.Padding.Any(p => p != 0))
            || SlicedWindowStride(pool.KernelSize, pool.Stride, pool.Padding, pool.CeilMode) is not { } stride)
        {
            return null;
        }
        var divisor = pool.KernelSize[0] * pool.KernelSize[1];
        var odd = divisor % 2 == 1 && divisor <= 127;
        var powerOfTwo = divisor <= 128 && (divisor & (divisor - 1)) == 0;
        if (!odd && !powerOfTwo)
        {
            return null;
        }
        var z = zeroPoint.ToString(CultureInfo.InvariantCulture);
        var int16 = DtypeCode(ScalarType.Int16);
        var padded = pool.Padding.Any(p => p != 0)
            ? $"torch.constant_pad_nd({raw()}, [{pool.Padding[1]}, {pool.Padding[1]}, {pool.Padding[0]}, {pool.Padding[0]}], {Float(zeroPoint)}).to({int16})"
            : $"{raw()}.to({int16})";
        static string Sum(string left, string right) => $"{left} + {right}";
        var sums = odd ? $"{temp}_h" : $"{temp}_h.sub_({(divisor * zeroPoint).ToString(CultureInfo.InvariantCulture)})";
        return
        [
            $"{temp}_pad = {padded}",
            $"{temp}_w = {WindowReduce($"{temp}_pad", ":, :, :, ", pool.KernelSize[1], stride[1], Sum)}",
            $"{temp}_h = {WindowReduce($"{temp}_w", ":, :, ", pool.KernelSize[0], stride[0], Sum)}",
            $"{temp}_q = torch.quantize_per_tensor({sums}.to({DtypeCode(ScalarType.Float32)}), {Float(divisor)}, {(odd ? "0" : z)}, {DtypeCode(ScalarType.QUInt8)})",
            $"{result} = {RawView($"{temp}_q")}",
        ];
    }

    // LibTorch's NHWC quantized and FP32 pools vectorize over channels: at 56 and 128 channels they are as fast as the
    // integer sums, at 24 the sums take 0.7x (issue 28 probe, docs/BENCHMARKS.md).
    private const long IntegerPoolChannels = 32;

    /// <summary>
    /// A concatenation of 4-D uint8 tensors along their channels as a move of wider integers: each part's NHWC bytes
    /// (<c>permute</c> to N, H, W, C, contiguous: no copy for the NHWC tensors LibTorch's int8 kernels give) are read as
    /// int64, int32 or int16 through <c>set_</c> on a tensor of that dtype (TorchScript cannot script
    /// <c>Tensor.view(dtype)</c>: it reads the dtype as a size), concatenated along their last dimension, and read back as
    /// uint8, NHWC. The same bytes in the same places as <c>torch.cat</c> of the parts (a byte move, so bit-identical),
    /// and several times faster where the parts have few channels: LibTorch's cat copies each part row by row with an
    /// inner loop of its channel count, which is per-element cost at 8-24 bytes and a quarter to an eighth of it at 1-3
    /// wide integers (issue 28 probe, docs/BENCHMARKS.md). The width is the widest whose byte count divides every part's
    /// channel count. <c>set_</c> adds its source's storage offset in the new dtype's units, so every part must start its
    /// storage: the parts the generators pass are fresh results of int8 kernels, <c>int_repr</c>, <see cref="RawView"/>,
    /// pools on raw values or this concatenation. Null when a count is unknown or odd, when every part has 32 channels or more, or for another
    /// dimension: a plain <c>torch.cat</c> then.
    /// </summary>
    /// <param name="parts">Per part, the name of its uint8 tensor (read three times) and its channel count where known.</param>
    internal static string? ChannelCatOnRaw(IReadOnlyList<(string Raw, long? Channels)> parts, long dim)
    {
        if (dim is not (1 or -3) || parts.Count == 0 || parts.Any(p => p.Channels is not > 0) || parts.All(p => p.Channels >= PlainCatChannels))
        {
            return null;
        }
        var (bytes, dtype) = WideIntegers.FirstOrDefault(w => parts.All(p => p.Channels!.Value % w.Bytes == 0));
        if (bytes == 0)
        {
            return null;
        }
        var first = parts[0].Raw;
        string Wide((string Raw, long? Channels) part) =>
            $"torch.empty([0], dtype={DtypeCode(dtype)}).set_({part.Raw}.permute([0, 2, 3, 1]).contiguous(), 0, " +
            $"[{part.Raw}.size(0), {part.Raw}.size(2), {part.Raw}.size(3), {part.Channels!.Value / bytes}])";
        return $"torch.empty([0], dtype={DtypeCode(ScalarType.Byte)}).set_(torch.cat([{string.Join(", ", parts.Select(Wide))}], 3), 0, " +
            $"[{first}.size(0), {first}.size(2), {first}.size(3), {parts.Sum(p => p.Channels!.Value)}]).permute([0, 3, 1, 2])";
    }

    // LibTorch's cat of NHWC uint8 parts of 32 channels or more runs at copy speed: as fast as the wider move, or faster
    // at 8x8 (issue 28 probe, docs/BENCHMARKS.md).
    private const long PlainCatChannels = 32;

    /// <summary>
    /// The uint8 values of the 4-D quantized tensor named <paramref name="q"/> as a view of its bytes: its NHWC form
    /// (<c>permute</c>, contiguous: no copy for LibTorch's NHWC int8 results) read as uint8 through <c>set_</c>, NHWC.
    /// The values of <c>torch.int_repr</c>, which copies them element by element (0.7 ms on [128, 24, 32, 32], issue 28
    /// probe). Like <see cref="ChannelCatOnRaw"/>, it needs a tensor that starts its storage: a fresh result of a kernel.
    /// </summary>
    internal static string RawView(string q) =>
        $"torch.empty([0], dtype={DtypeCode(ScalarType.Byte)}).set_({q}.permute([0, 2, 3, 1]).contiguous(), 0, " +
        $"[{q}.size(0), {q}.size(2), {q}.size(3), {q}.size(1)]).permute([0, 3, 1, 2])";

    /// <summary>
    /// The uint8 values of <paramref name="value"/>, the quantized tensor named <paramref name="q"/>: read in place
    /// (<see cref="RawView"/>) where the graph fixes its channel count — a 4-D fresh result of a kernel — and copied by
    /// <c>int_repr</c> elsewhere.
    /// </summary>
    internal static string RawOf(ModelGraph graph, GraphValue value, string q) =>
        ChannelCount(graph, value) is null ? $"torch.int_repr({q})" : RawView(q);

    private static readonly (int Bytes, ScalarType Dtype)[] WideIntegers = [(8, ScalarType.Int64), (4, ScalarType.Int32), (2, ScalarType.Int16)];

    /// <summary>
    /// The channel count of a 4-D value where the graph fixes it: a conv's output channels, kept by the ops that keep
    /// them (clamp, ReLU, 2-D pools) and summed by a concatenation along the channels; null elsewhere.
    /// </summary>
    internal static long? ChannelCount(ModelGraph graph, GraphValue value) => graph.Producer(value) switch
    {
        Conv2dNode conv => conv.OutChannels,
        ClampNode or ReLUNode or MaxPool2dNode or AvgPool2dNode => ChannelCount(graph, graph.Producer(value).Inputs[0]),
        ConcatNode { Dim: 1 or -3 } concat => concat.Parts.Select(part => ChannelCount(graph, part)).Aggregate((long?)0, (sum, c) => sum + c),
        _ => null,
    };

    /// <summary>
    /// An average pool of a quantized tensor run in FP32 and quantized back to <paramref name="output"/>, where that gives
    /// LibTorch's quantized average pool's values: one divisor for every window (padding counted, or none) and an odd one,
    /// so that no average of integers lies halfway between two steps (LibTorch's integer kernel and FP32 rounding break
    /// such ties differently). LibTorch's NHWC kernel is slower than these three passes (issue 28 probe,
    /// docs/BENCHMARKS.md). Null for another pool, which keeps LibTorch's kernel.
    /// </summary>
    internal static string? AvgPoolInFloat(AvgPool2dNode pool, string q, ActivationQuantization output)
    {
        var padded = pool.Padding.Any(p => p != 0);
        var oneOddDivisor = pool.KernelSize.Length == 2 && pool.KernelSize.Aggregate(1L, (a, k) => a * k) % 2 == 1
            && !pool.CeilMode && (pool.CountIncludePad || !padded);
        return oneOddDivisor
            ? $"torch.quantize_per_tensor({SharedOp(pool, $"torch.dequantize({q})")}, {Float(output.Scale)}, {output.ZeroPoint}, {DtypeCode(output.Dtype)})"
            : null;
    }

    private static string FloatOp(GraphNode node, Func<GraphValue, string> floatOf) => node switch
    {
        UnaryNode { Function: UnaryFunction.Sigmoid } unary => $"torch.sigmoid({floatOf(unary.Input)})",
        UnaryNode { Function: UnaryFunction.HardSigmoid } unary =>
            $"torch.clamp(torch.add(torch.mul({floatOf(unary.Input)}, {Float(unary.Alpha)}), {Float(unary.Beta)}), 0.0, 1.0)",
        UnaryNode { Function: UnaryFunction.HardSwish } unary => $"torch.hardswish({floatOf(unary.Input)})",
        UnaryNode { Function: UnaryFunction.LeakyRelu } unary => $"torch.leaky_relu({floatOf(unary.Input)}, {Float(unary.Alpha)})",
        MulNode mul => $"torch.mul({floatOf(mul.Left)}, {floatOf(mul.Right)})",
        SoftmaxNode softmax => $"torch.softmax({floatOf(softmax.Input)}, {softmax.Dim})",
        FloatOpNode op => op.Op.TorchScript(op.Operands.Select(floatOf).ToList()),
        _ => throw new NotSupportedException($"No TorchScript FP32 op for {node.GetType().Name}."),
    };

    /// <summary>
    /// The FP32 conv / linear of a layer kept float, on its input's float form; its weight and bias are kept in
    /// <c>self.float_params</c> by <c>setup</c>, in the order of <paramref name="floatTensors"/> (layer.weight, layer.bias).
    /// </summary>
    private static string FloatLayerOp(
        GraphNode layer, Func<GraphValue, string> floatOf, QuantizedGraph quantized, List<string> floatTensors, StringBuilder setup)
    {
        var name = X86InductorQuantizer.LayerName(layer)!;
        var (_, bias) = quantized.FloatParameters(name);
        string Param(string suffix)
        {
            floatTensors.Add($"{name}.{suffix}");
            var index = floatTensors.Count - 1;
            setup.AppendLine($"    self.{FloatParams}.append({FloatParams}[{index}])");
            return $"self.{FloatParams}[{index}]";
        }
        var weight = Param("weight");
        var biasExpression = bias is null ? "None" : Param("bias");
        var (call, relu) = layer switch
        {
            Conv2dNode conv => ($"torch.conv2d({floatOf(conv.Input)}, {weight}, {biasExpression}, {IntList(conv.Stride, conv.Name)}, " +
                $"{IntList(conv.Padding, conv.Name)}, {IntList(conv.Dilation, conv.Name)}, {conv.Groups})", conv.Relu),
            LinearNode linear => ($"torch.linear({floatOf(linear.Input)}, {weight}, {biasExpression})", linear.Relu),
            _ => throw new NotSupportedException($"No TorchScript FP32 layer for {layer.GetType().Name}."),
        };
        return relu ? $"torch.relu({call})" : call;
    }

    /// <summary>Emits the construction of quantized weight <c>w</c> for layer <paramref name="name"/>; returns its bias expression.</summary>
    private static string AppendWeight(StringBuilder setup, QuantizedGraph quantized, string name, List<string> layers, List<string> biased)
    {
        if (!quantized.Weights.TryGetValue(name, out var weight))
        {
            throw new InvalidOperationException($"Layer {name} has no int8 weight in the quantized graph.");
        }
        if (weight.IntWeight.dtype != ScalarType.Int8)
        {
            throw new NotSupportedException($"Layer {name}: int8 weights are expected, found {weight.IntWeight.dtype}.");
        }
        var i = layers.Count;
        layers.Add(name);
        setup.AppendLine(weight.PerChannel
            ? $"    w = torch._make_per_channel_quantized_tensor(weights[{i}], scales[{i}], zero_points[{i}], {WeightQuantization.ChannelAxis})"
            : $"    w = torch._make_per_tensor_quantized_tensor(weights[{i}], float(scales[{i}]), int(zero_points[{i}]))");
        if (weight.Bias is null)
        {
            return "None";
        }
        biased.Add(name);
        return $"biases[{biased.Count - 1}]";
    }

    internal static ActivationQuantization Quantization(QuantizedGraph quantized, GraphValue value)
    {
        var q = quantized.QuantizationOf(value);
        CheckQuantization(q, value);
        return q;
    }

    private static void CheckQuantization(ActivationQuantization q, GraphValue value)
    {
        if (q.Dtype != ScalarType.QUInt8)
        {
            throw new NotSupportedException($"Activation {value}: LibTorch's int8 CPU kernels take quint8 activations, not {q.Dtype}.");
        }
        if (!double.IsFinite(q.Scale) || q.Scale <= 0)
        {
            throw new ArgumentException($"Activation {value} has an invalid scale {q.Scale}.");
        }
    }

    // q_ + the sanitized node name (conv, linear) or the node kind and value id, with '_' appended until unique;
    // the q_ prefix keeps clear of TorchScript keywords and builtins.
    internal static string VariableName(GraphNode node, HashSet<string> taken)
    {
        var stem = node switch
        {
            InputNode => "input",
            Conv2dNode conv => Sanitize(conv.Name),
            LinearNode linear => Sanitize(linear.Name),
            AddNode => $"add_{node.Output.Id}",
            AdaptiveAvgPool2dNode => $"avgpool_{node.Output.Id}",
            MaxPool2dNode => $"maxpool_{node.Output.Id}",
            FlattenNode => $"flatten_{node.Output.Id}",
            AvgPool2dNode => $"avgpool2d_{node.Output.Id}",
            ClampNode => $"clamp_{node.Output.Id}",
            ConcatNode => $"cat_{node.Output.Id}",
            UnaryNode unary => Sanitize(unary.Name),
            MulNode mul => Sanitize(mul.Name),
            SoftmaxNode softmax => Sanitize(softmax.Name),
            FloatOpNode op => Sanitize(op.Name),
            ConstantNode => $"const_{node.Output.Id}",
            ReLUNode => $"relu_{node.Output.Id}",
            _ => $"v_{node.Output.Id}",
        };
        var name = $"q_{stem}";
        while (!taken.Add(name))
        {
            name += "_";
        }
        return name;
    }

    private static string Sanitize(string name)
    {
        var chars = name.Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').ToArray();
        return chars.Length == 0 ? "layer" : new string(chars);
    }

    private static string Bool(bool value) => value ? "True" : "False";

    internal static string DtypeCode(ScalarType dtype) => ((int)dtype).ToString(CultureInfo.InvariantCulture);

    internal static string IntList(long[] values, string owner)
    {
        if (values.Length == 0)
        {
            // An empty list literal would be typed List[Tensor] by TorchScript: a compile error, i.e. an abort.
            throw new ArgumentException($"{owner}: an empty int list cannot be written as TorchScript.");
        }
        return $"[{string.Join(", ", values.Select(v => v.ToString(CultureInfo.InvariantCulture)))}]";
    }

    /// <summary>A float literal that round-trips exactly and always reads as a float (has '.' or an exponent).</summary>
    internal static string Float(double value)
    {
        var text = value.ToString("R", CultureInfo.InvariantCulture).Replace('E', 'e');
        var exponent = text.IndexOf('e');
        var mantissa = exponent < 0 ? text : text[..exponent];
        return mantissa.Contains('.') ? text : mantissa + ".0" + (exponent < 0 ? "" : text[exponent..]);
    }
}
