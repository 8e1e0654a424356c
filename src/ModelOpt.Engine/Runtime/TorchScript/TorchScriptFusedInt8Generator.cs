using System.Text;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Quantizers;
using static ModelOpt.Engine.Runtime.TorchScript.TorchScriptInt8Generator;

namespace ModelOpt.Engine.Runtime.TorchScript;

/// <summary>
/// Turns a <see cref="QuantizedGraph"/> into TorchScript over oneDNN's <c>onednn::qconv2d_pointwise</c>, the kernel
/// PyTorch's x86 inductor lowering calls: a residual add whose one input is a conv used only there runs inside that
/// conv as oneDNN's "sum" post-op (with the add's ReLU), so the conv's output is never requantized nor read back. A clamp
/// (ReLU6) read only from a conv runs inside it as the "hardtanh" post-op: clamping before the output's rounding is the
/// same as clamping the rounded values, so this changes no number. A concatenation whose inputs are all convs read only
/// by it (or already in its qparams) is a plain uint8 <c>torch.cat</c>: those convs write the concatenation's qparams
/// directly, as PyTorch's X86InductorQuantizer shares one observer between a cat and its inputs, so their outputs are
/// rounded once instead of twice (issue 28). Convs pass plain uint8 tensors with explicit qparams; pools, flatten, other
/// clamps and concatenations, unfused adds and linear layers run on LibTorch's quantized tensors as in
/// <see cref="TorchScriptInt8Generator"/>.
/// </summary>
/// <remarks>
/// The sum post-op writes into its accumulator, so an add is fused only when its other input is read by nothing after it
/// and is not the conv's own input. The module keeps the plain int8 weights (<c>__getstate__</c>) and packs them when it
/// is loaded (<c>__setstate__</c>): oneDNN's packed weights are opaque tensors TorchScript cannot save.
/// </remarks>
public static class TorchScriptFusedInt8Generator
{
    public const string ClassName = "ModelOptFusedInt8Model";

    /// <summary>The <c>Dict[str, List[Tensor]]</c> keys of the module's state; one entry per layer in each.</summary>
    public static IReadOnlyList<string> StateKeys { get; } = [Weights, Scales, ZeroPoints, Biases];

    private const string Weights = "weights";
    private const string Scales = "scales";
    private const string ZeroPoints = "zero_points";
    private const string Biases = "biases";
    private const string NoScalars = "annotate(List[Optional[number]], [])";

    /// <summary>Why this graph has no fused form (null when it has one): only what the oneDNN path runs is accepted.</summary>
    public static string? Unsupported(QuantizedGraph quantized)
    {
        if (quantized.Graph.HasSeveralOutputs)
        {
            return $"the model has {quantized.Graph.Outputs.Count} outputs; the fused form returns one";
        }
        using var scope = NewDisposeScope();
        foreach (var node in quantized.Graph.Nodes)
        {
            var supported = node switch
            {
                _ when quantized.IsKeptFloat(node) => false,
                InputNode or Conv2dNode or AddNode or LinearNode => true,
                ConcatNode concat => concat.Parts.All(part => quantized.TryQuantizationOf(part) is not null),
                FloatOpNode => false, // the data-movement ops that share their input's qparams have no lowering here
                _ when X86InductorQuantizer.SharesInputQuantization(node) => quantized.TryQuantizationOf(node.Inputs[0]) is not null,
                _ => false,
            };
            if (!supported)
            {
                return $"{node.GetType().Name} ({node.Output}) has no int8 oneDNN path";
            }
        }
        if (quantized.TryQuantizationOf(quantized.Graph.Output) is null)
        {
            return "the output is not int8";
        }
        var affine = quantized.Weights.FirstOrDefault(w => !w.Value.PerChannel || w.Value.ZeroPoints.ne(0).any().item<bool>());
        return affine.Value is null ? null : $"layer {affine.Key}: oneDNN takes symmetric per-channel int8 weights only";
    }

    public static TorchScriptFusedInt8Source Generate(QuantizedGraph quantized)
    {
        if (Unsupported(quantized) is { } reason)
        {
            throw new NotSupportedException($"No fused oneDNN form: {reason}.");
        }
        var graph = quantized.Graph;
        var accumulators = FusedAdds(graph, quantized);
        var clamps = FusedClamps(graph, quantized, accumulators);
        var catInputs = ConcatenatedConvs(graph, quantized, accumulators, clamps);
        var layers = new List<string>();
        var taken = new HashSet<string>();
        var pack = new StringBuilder();
        var forward = new StringBuilder();
        var linearLayers = new List<string>();
        var fusedClamps = new List<string>();
        var concatenated = new List<string>();

        // A value is held as a quantized tensor (q_ name), as plain uint8 with its qparams in the source (u_ name), or
        // both; each conversion is emitted once, where it is first needed.
        var quantizedNames = new Dictionary<GraphValue, string>();
        var rawNames = new Dictionary<GraphValue, string>();
        var stems = new Dictionary<GraphValue, string>();
        ActivationQuantization QParams(GraphValue value) => TorchScriptInt8Generator.Quantization(quantized, value);
        // Takes a finished string: a conversion the line's operands emit must come before the line itself, which
        // StringBuilder's interpolation handler would not ensure.
        void Emit(string line) => forward.AppendLine(line);
        string Raw(GraphValue value)
        {
            if (!rawNames.TryGetValue(value, out var name))
            {
                name = rawNames[value] = $"u{stems[value][1..]}";
                Emit($"    {name} = {RawOf(graph, value, quantizedNames[value])}");
            }
            return name;
        }
        string Quantized(GraphValue value)
        {
            if (!quantizedNames.TryGetValue(value, out var name))
            {
                var q = QParams(value);
                name = quantizedNames[value] = stems[value];
                Emit($"    {name} = torch._make_per_tensor_quantized_tensor({rawNames[value]}, {Float(q.Scale)}, {q.ZeroPoint})");
            }
            return name;
        }
        int Layer(string name)
        {
            layers.Add(name);
            return layers.Count - 1;
        }

        var fusedConvs = accumulators.ToDictionary(a => a.Conv, a => a);
        foreach (var node in graph.Nodes)
        {
            // A fused add was named where its conv emitted it.
            var output = stems.TryGetValue(node.Output, out var named) ? named : stems[node.Output] = VariableName(node, taken);
            switch (node)
            {
                case InputNode:
                    var input = QParams(node.Output);
                    Emit($"    {output} = torch.quantize_per_tensor(x, {Float(input.Scale)}, {input.ZeroPoint}, {DtypeCode(input.Dtype)})");
                    quantizedNames[node.Output] = output;
                    break;
                case Conv2dNode conv:
                    var inQ = QParams(conv.Input);
                    var i = Layer(conv.Name);
                    var geometry = $"{IntList(conv.Stride, conv.Name)}, {IntList(conv.Padding, conv.Name)}, {IntList(conv.Dilation, conv.Name)}, {conv.Groups}";
                    pack.AppendLine($"    self.{ConvPacked}.append(ops.onednn.qconv_prepack(self.{Weights}[{i}], self.{Scales}[{i}], " +
                        $"{Float(inQ.Scale)}, {inQ.ZeroPoint}, {geometry}, None))");
                    var operands = $"{Raw(conv.Input)}, {Float(inQ.Scale)}, {inQ.ZeroPoint}, self.{ConvPacked}[{i}], self.{Scales}[{i}], self.{ZeroPoints}[{i}]";
                    if (fusedConvs.TryGetValue(conv, out var fused))
                    {
                        // Emitted here, for the add: the add's output takes this line's result and the conv's output never exists.
                        var accumulator = QParams(fused.Accumulator);
                        var sum = QParams(fused.Add.Output);
                        var addName = stems[fused.Add.Output] = VariableName(fused.Add, taken);
                        Emit($"    {rawNames[fused.Add.Output] = $"u{addName[1..]}"} = ops.onednn.qconv2d_pointwise({operands}, " +
                            $"{Raw(fused.Accumulator)}, self.{Biases}[{i}], {geometry}, {Float(sum.Scale)}, {sum.ZeroPoint}, None, " +
                            $"{Float(accumulator.Scale)}, {accumulator.ZeroPoint}, \"sum\", 1.0, \"{(fused.Add.Relu ? "relu" : "none")}\", {NoScalars}, None)");
                    }
                    else
                    {
                        // The value this conv writes: its own output, or its clamp's, emitted here for the clamp; in the
                        // qparams of the concatenation that alone reads it, if any.
                        var clamp = clamps.GetValueOrDefault(conv);
                        var written = clamp?.Output ?? conv.Output;
                        var writtenName = clamp is null ? output : stems[clamp.Output] = VariableName(clamp, taken);
                        var convOut = catInputs.TryGetValue(written, out var cat) ? QParams(cat.Output) : QParams(written);
                        var postOp = clamp is null
                            ? $"\"{(conv.Relu ? "relu" : "none")}\", {NoScalars}"
                            : $"\"hardtanh\", annotate(List[Optional[number]], [{Float(conv.Relu ? Math.Max(clamp.Min, 0) : clamp.Min)}, {Float(clamp.Max)}])";
                        Emit($"    {rawNames[written] = $"u{writtenName[1..]}"} = ops.onednn.qconv2d_pointwise({operands}, self.{Biases}[{i}], {geometry}, " +
                            $"{Float(convOut.Scale)}, {convOut.ZeroPoint}, None, {postOp}, None)");
                        if (clamp is not null)
                        {
                            fusedClamps.Add(conv.Name);
                        }
                        if (cat is not null)
                        {
                            concatenated.Add(conv.Name);
                        }
                    }
                    break;
                case ClampNode clamp when rawNames.ContainsKey(clamp.Output):
                    break;
                case ConcatNode concat when concat.Parts.All(part => catInputs.ContainsKey(part) || SameQParams(QParams(part), QParams(concat.Output))):
                    var parts = concat.Parts.Select(part => (Raw: Raw(part), Channels: ChannelCount(graph, part))).ToList();
                    var rawCat = ChannelCatOnRaw(parts, concat.Dim) ?? $"torch.cat([{string.Join(", ", parts.Select(p => p.Raw))}], {concat.Dim})";
                    Emit($"    {rawNames[concat.Output] = $"u{output[1..]}"} = {rawCat}");
                    break;
                case ConcatNode concat:
                    var catOut = QParams(concat.Output);
                    var quantizedParts = string.Join(", ", concat.Parts.Select(Quantized));
                    Emit($"    {output} = ops.quantized.cat([{quantizedParts}], {concat.Dim}, {Float(catOut.Scale)}, {catOut.ZeroPoint})");
                    quantizedNames[concat.Output] = output;
                    break;
                case AddNode add when rawNames.ContainsKey(add.Output):
                    break;
                case AddNode add:
                    var addOut = QParams(add.Output);
                    Emit($"    {output} = ops.quantized.{(add.Relu ? "add_relu" : "add")}(" +
                        $"{Quantized(add.Left)}, {Quantized(add.Right)}, {Float(addOut.Scale)}, {addOut.ZeroPoint})");
                    quantizedNames[add.Output] = output;
                    break;
                case LinearNode linear:
                    var j = Layer(linear.Name);
                    pack.AppendLine($"    self.{LinearPacked}.append(ops.quantized.linear_prepack(torch._make_per_channel_quantized_tensor(" +
                        $"self.{Weights}[{j}], self.{Scales}[{j}], self.{ZeroPoints}[{j}], {WeightQuantization.ChannelAxis}), self.{Biases}[{j}]))");
                    var linearOut = QParams(linear.Output);
                    Emit($"    {output} = ops.quantized.{(linear.Relu ? "linear_relu" : "linear")}({Quantized(linear.Input)}, " +
                        $"self.{LinearPacked}[{linearLayers.Count}], {Float(linearOut.Scale)}, {linearOut.ZeroPoint})");
                    quantizedNames[linear.Output] = output;
                    linearLayers.Add(linear.Name);
                    break;
                // The pool rewrites read the uint8 values only for a pool they cover; AvgPoolInFloat's Quantized emits its
                // conversion line first, which the default arm reuses when that pool is refused too.
                case MaxPool2dNode maxPool when SameQParams(QParams(maxPool.Input), QParams(maxPool.Output))
                    && MaxPoolOnRaw(maxPool, () => Raw(maxPool.Input), $"u{output[1..]}", $"t{output[1..]}") is { } poolLines:
                    forward.AppendJoin("", poolLines.Select(line => $"    {line}\n"));
                    rawNames[maxPool.Output] = $"u{output[1..]}";
                    break;
                case AvgPool2dNode avgPool when SameQParams(QParams(avgPool.Input), QParams(avgPool.Output))
                    && AvgPoolOnRaw(avgPool, ChannelCount(graph, avgPool.Input), QParams(avgPool.Input).ZeroPoint, () => Raw(avgPool.Input),
                        $"u{output[1..]}", $"t{output[1..]}") is { } averageLines:
                    forward.AppendJoin("", averageLines.Select(line => $"    {line}\n"));
                    rawNames[avgPool.Output] = $"u{output[1..]}";
                    break;
                case AvgPool2dNode avgPool when AvgPoolInFloat(avgPool, Quantized(avgPool.Input), QParams(avgPool.Output)) is { } averaged:
                    Emit($"    {output} = {averaged}");
                    quantizedNames[avgPool.Output] = output;
                    break;
                default:
                    Emit($"    {output} = {SharedOp(node, Quantized(node.Inputs[0]))}");
                    quantizedNames[node.Output] = output;
                    break;
            }
        }
        Emit($"    return torch.dequantize({Quantized(graph.Output)})");

        var self = $"self: __torch__.{ClassName}";
        var state = "Dict[str, List[Tensor]]";
        var lists = string.Join(", ", StateKeys.Select(k => $"{k}: List[Tensor]"));
        var source = new StringBuilder()
            .AppendLine($"class {ClassName}(Module):")
            .AppendLine("  __parameters__ = []")
            .AppendLine("  __buffers__ = []")
            .AppendLine("  training : bool")
            .AppendJoin("", StateKeys.Select(k => $"  {k} : List[Tensor]\n"))
            .AppendLine($"  {ConvPacked} : List[Tensor]")
            .AppendLine($"  {LinearPacked} : List[{PackedParams}.LinearPackedParamsBase]")
            .AppendLine($"  def load_weights({self}, {lists}) -> None:")
            .AppendJoin("", StateKeys.Select(k => $"    self.{k} = {k}\n"))
            .AppendLine("    self.pack()")
            .AppendLine("    return None")
            .AppendLine($"  def pack({self}) -> None:")
            .AppendLine($"    self.{ConvPacked}.clear()")
            .AppendLine($"    self.{LinearPacked}.clear()")
            .Append(pack)
            .AppendLine("    return None")
            .AppendLine($"  def __getstate__({self}) -> {state}:")
            .AppendLine($"    return {{{string.Join(", ", StateKeys.Select(k => $"\"{k}\": self.{k}"))}}}")
            .AppendLine($"  def __setstate__({self}, state: {state}) -> None:")
            .AppendLine("    self.training = False")
            .AppendJoin("", StateKeys.Select(k => $"    self.{k} = state[\"{k}\"]\n"))
            .AppendLine($"    self.{ConvPacked} = annotate(List[Tensor], [])")
            .AppendLine($"    self.{LinearPacked} = annotate(List[{PackedParams}.LinearPackedParamsBase], [])")
            // The archive ModelOpt writes holds no weights yet: load_weights packs them.
            .AppendLine($"    if len(self.{Weights}) > 0:")
            .AppendLine("      self.pack()")
            .AppendLine("    return None")
            .AppendLine($"  def forward({self}, x: Tensor) -> Tensor:")
            .Append(forward)
            .ToString();
        return new TorchScriptFusedInt8Source(ClassName, source, layers, linearLayers, [.. accumulators.Select(a => a.Conv.Name)], fusedClamps, concatenated);
    }

    /// <summary>
    /// The clamps that run as their conv's hardtanh post-op: finite bounds, the conv's output read by nothing else and
    /// not summed into a residual add. The clamp shares its input's qparams, so the conv's output qparams stay as they are.
    /// </summary>
    private static Dictionary<Conv2dNode, ClampNode> FusedClamps(ModelGraph graph, QuantizedGraph quantized, List<FusedAdd> accumulators)
    {
        var uses = graph.UseCounts();
        var summed = accumulators.Select(a => a.Conv).ToHashSet();
        var fused = new Dictionary<Conv2dNode, ClampNode>();
        foreach (var clamp in graph.Nodes.OfType<ClampNode>())
        {
            if (graph.Producer(clamp.Input) is Conv2dNode conv && !summed.Contains(conv) && !quantized.IsKeptFloat(conv) && uses[conv.Output] == 1
                && double.IsFinite(clamp.Min) && double.IsFinite(clamp.Max) && clamp.Min <= clamp.Max
                && SameQParams(quantized.QuantizationOf(clamp.Output), quantized.QuantizationOf(conv.Output)))
            {
                fused[conv] = clamp;
            }
        }
        return fused;
    }

    /// <summary>
    /// The values (a conv's output, or its fused clamp's) that a concatenation alone reads, once, when every one of its
    /// inputs is such a value or already in its qparams: their conv writes the concatenation's qparams.
    /// </summary>
    private static Dictionary<GraphValue, ConcatNode> ConcatenatedConvs(
        ModelGraph graph, QuantizedGraph quantized, List<FusedAdd> accumulators, Dictionary<Conv2dNode, ClampNode> clamps)
    {
        var uses = graph.UseCounts();
        var summed = accumulators.Select(a => a.Conv).ToHashSet();
        var clampOutputs = clamps.Values.Select(c => c.Output).ToHashSet();
        bool WrittenByConv(GraphValue value) => uses[value] == 1 && (clampOutputs.Contains(value)
            || (graph.Producer(value) is Conv2dNode conv && !summed.Contains(conv) && !clamps.ContainsKey(conv) && !quantized.IsKeptFloat(conv)));
        var targets = new Dictionary<GraphValue, ConcatNode>();
        foreach (var concat in graph.Nodes.OfType<ConcatNode>())
        {
            var output = quantized.QuantizationOf(concat.Output);
            if (concat.Parts.All(part => WrittenByConv(part) || SameQParams(quantized.QuantizationOf(part), output)))
            {
                foreach (var part in concat.Parts.Where(WrittenByConv))
                {
                    targets[part] = concat;
                }
            }
        }
        return targets;
    }

    private sealed record FusedAdd(Conv2dNode Conv, AddNode Add, GraphValue Accumulator);

    /// <summary>
    /// The adds that run as a conv's sum post-op: one input a conv without ReLU read only by the add, the other (the
    /// accumulator) computed before that conv, not its input, and read by nothing after the add.
    /// </summary>
    private static List<FusedAdd> FusedAdds(ModelGraph graph, QuantizedGraph quantized)
    {
        var order = graph.Nodes.Select((node, index) => (node, index)).ToDictionary(p => p.node, p => p.index);
        var uses = graph.UseCounts();
        var fused = new List<FusedAdd>();
        foreach (var add in graph.Nodes.OfType<AddNode>())
        {
            foreach (var (summed, accumulator) in new[] { (add.Left, add.Right), (add.Right, add.Left) })
            {
                if (graph.Producer(summed) is Conv2dNode { Relu: false } conv && !quantized.IsKeptFloat(conv) && uses[summed] == 1
                    && accumulator != conv.Input
                    && order[graph.Producer(accumulator)] < order[conv]
                    && graph.LastUses[order[add]].Contains(accumulator))
                {
                    fused.Add(new FusedAdd(conv, add, accumulator));
                    break;
                }
            }
        }
        return fused;
    }
}
