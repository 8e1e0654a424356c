using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Text.Json;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Fusion;

namespace ModelOpt.Engine.Runtime.Int8Checkpoint;

/// <summary>
/// The plain int8 checkpoint: per conv / linear layer <c>NAME.weight</c> (int8), <c>NAME.weight_scale</c> (float64),
/// <c>NAME.weight_zero_point</c> (int64) and <c>NAME.bias</c> (float32), and for a layer kept FP32 its float32
/// <c>NAME.weight</c> and <c>NAME.bias</c>, listed under <c>fp32_layers</c>; the convs with a fused ReLU under
/// <c>relu_layers</c> (a ReLU6 cross-layer equalization replaced is one); the model, input shape, classes, qconfig and
/// every activation's qparams in <c>__metadata__</c>. Readable by any safetensors library; ModelOpt rebuilds the
/// same <see cref="QuantizedGraph"/> from it by re-capturing the zoo architecture (or re-importing the ONNX model it
/// came from), folding and fusing, and replacing its weights.
/// </summary>
public static class Int8SafeTensorsCheckpoint
{
    public const string Format = "modelopt-int8-safetensors/1";

    private static class Keys
    {
        public const string Format = "format";
        public const string Model = "model";
        public const string InputShape = "input_shape";
        public const string NumClasses = "num_classes";
        public const string ClassNames = "class_names";
        public const string OutputName = "output_name";
        public const string OutputNames = "output_names";
        public const string QConfig = "qconfig";
        public const string PerChannel = "per_channel_layers";
        public const string Fp32Layers = "fp32_layers";
        public const string ReluLayers = "relu_layers";
        public const string Activations = "activations";
    }

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static byte[] Serialize(QuantizedGraph quantized, Int8ModelDescriptor model)
    {
        var tensors = new List<(string, Tensor)>();
        foreach (var (name, weight) in quantized.Weights.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            tensors.Add(($"{name}.weight", weight.IntWeight));
            tensors.Add(($"{name}.weight_scale", weight.Scales));
            tensors.Add(($"{name}.weight_zero_point", weight.ZeroPoints));
            if (weight.Bias is not null)
            {
                tensors.Add(($"{name}.bias", weight.Bias));
            }
        }
        var fp32Layers = quantized.KeptFloatLayers();
        foreach (var name in fp32Layers)
        {
            var (weight, bias) = quantized.FloatParameters(name);
            tensors.Add(($"{name}.weight", weight));
            if (bias is not null)
            {
                tensors.Add(($"{name}.bias", bias));
            }
        }
        var metadata = new Dictionary<string, string>
        {
            [Keys.Format] = Format,
            [Keys.Model] = model.ModelName,
            [Keys.InputShape] = JsonSerializer.Serialize(model.InputShape),
            [Keys.NumClasses] = model.NumClasses.ToString(CultureInfo.InvariantCulture),
            [Keys.QConfig] = quantized.QConfigDescription,
            [Keys.PerChannel] = JsonSerializer.Serialize(quantized.Weights.Where(kv => kv.Value.PerChannel).Select(kv => kv.Key).Order(StringComparer.Ordinal)),
            [Keys.Activations] = JsonSerializer.Serialize(Int8ActivationEntry.From(quantized), Json),
            [Keys.Fp32Layers] = JsonSerializer.Serialize(fp32Layers),
            [Keys.ReluLayers] = JsonSerializer.Serialize(quantized.Graph.Nodes.OfType<Conv2dNode>().Where(c => c.Relu).Select(c => c.Name).Order(StringComparer.Ordinal)),
        };
        if (model.ClassNames is not null)
        {
            metadata[Keys.ClassNames] = JsonSerializer.Serialize(model.ClassNames);
        }
        if (model.OutputName is not null)
        {
            metadata[Keys.OutputName] = model.OutputName;
        }
        if (quantized.Graph.HasSeveralOutputs)
        {
            metadata[Keys.OutputNames] = JsonSerializer.Serialize(quantized.Graph.OutputNames);
        }
        return SafeTensorsFile.Write(tensors, metadata);
    }

    public static void Save(QuantizedGraph quantized, Int8ModelDescriptor model, string path) =>
        File.WriteAllBytes(path, Serialize(quantized, model));

    /// <inheritdoc cref="Load(byte[], string?)"/>
    public static (QuantizedGraph Quantized, Int8ModelDescriptor Model) Load(string path, string? onnxModelPath = null) =>
        Load(File.ReadAllBytes(path), onnxModelPath);

    /// <summary>Rebuilds the quantized graph the checkpoint was written from.</summary>
    /// <param name="onnxModelPath">For a model imported from ONNX, its .onnx file: the graph's structure comes from there.</param>
    /// <exception cref="Int8CheckpointException">The file is damaged, not an int8 checkpoint, or does not match its architecture.</exception>
    public static (QuantizedGraph Quantized, Int8ModelDescriptor Model) Load(byte[] bytes, string? onnxModelPath = null)
    {
        var (tensors, metadata) = SafeTensorsFile.Read(bytes);
        try
        {
            var model = Describe(metadata);
            var quantized = Rebuild(model, tensors, metadata, onnxModelPath);
            return (quantized, model);
        }
        catch (Exception e)
        {
            foreach (var tensor in tensors.Values)
            {
                tensor.Dispose();
            }
            if (e is JsonException)
            {
                throw new Int8CheckpointException($"The checkpoint's metadata is malformed: {e.Message}", e);
            }
            throw;
        }
    }

    private static Int8ModelDescriptor Describe(Dictionary<string, string> metadata)
    {
        if (!metadata.TryGetValue(Keys.Format, out var format) || format != Format)
        {
            throw new Int8CheckpointException($"Not a ModelOpt int8 safetensors checkpoint (format '{format}', expected '{Format}').");
        }
        try
        {
            return new Int8ModelDescriptor(
                Required(metadata, Keys.Model),
                JsonSerializer.Deserialize<long[]>(Required(metadata, Keys.InputShape)) ?? throw new JsonException("null input shape"),
                long.Parse(Required(metadata, Keys.NumClasses), CultureInfo.InvariantCulture),
                metadata.TryGetValue(Keys.ClassNames, out var names) ? JsonSerializer.Deserialize<string[]>(names) : null,
                metadata.GetValueOrDefault(Keys.OutputName));
        }
        catch (Exception e) when (e is JsonException or FormatException or OverflowException)
        {
            throw new Int8CheckpointException($"The checkpoint's model description is malformed: {e.Message}", e);
        }
    }

    private static QuantizedGraph Rebuild(
        Int8ModelDescriptor model, Dictionary<string, Tensor> tensors, Dictionary<string, string> metadata, string? onnxModelPath)
    {
        if (model.InputShape.Length != 3)
        {
            throw new Int8CheckpointException($"Input shape [{string.Join(", ", model.InputShape)}] is not [C, H, W].");
        }
        if (OnnxModelName.IsOnnx(model.ModelName) && onnxModelPath is null)
        {
            throw new Int8CheckpointException($"The checkpoint was made from {model.ModelName}; that .onnx file is needed to rebuild it.");
        }
        Fp32Model architecture;
        try
        {
            // Weights are replaced below: the zoo model is freshly initialised, an ONNX model gives its structure.
            architecture = Fp32Model.Open(model.ModelName, model.InputShape, model.LogitsWidth, onnxModelPath, model.OutputName);
        }
        catch (UnknownModelException e)
        {
            throw new Int8CheckpointException($"The checkpoint's architecture is unknown: {e.Message}", e);
        }

        using (architecture)
        {
            // A model with several outputs was saved with their names; one saved before several were kept had one.
            var outputNames = metadata.TryGetValue(Keys.OutputNames, out var saved) ? JsonSerializer.Deserialize<string[]>(saved)! : null;
            if (architecture.HasSeveralOutputs && !architecture.Outputs.Names.SequenceEqual(outputNames ?? []))
            {
                throw new Int8CheckpointException(
                    $"The model gives outputs {string.Join(", ", architecture.Outputs.Names)}; the checkpoint was made for " +
                    (outputNames is null ? "one output only: convert the model again." : $"{string.Join(", ", outputNames)}."));
            }
            using var folded = GraphFusion.FoldBatchNorm(architecture.Graph);
            // A conv with a fused ReLU whose architecture has a ReLU6 after it was cross-layer equalized (ADR-013).
            // Absent in checkpoints written before cross-layer equalization.
            var reluLayers = metadata.TryGetValue(Keys.ReluLayers, out var relu) ? JsonSerializer.Deserialize<string[]>(relu)!.ToHashSet() : [];
            using var relu6Replaced = GraphFusion.ReplaceReLU6(folded, reluLayers);
            using var fused = GraphFusion.FuseReLU(relu6Replaced);

            var perChannel = JsonSerializer.Deserialize<string[]>(Required(metadata, Keys.PerChannel))!.ToHashSet();
            // Absent in checkpoints written before layers could be kept FP32.
            var fp32Layers = metadata.TryGetValue(Keys.Fp32Layers, out var kept) ? JsonSerializer.Deserialize<string[]>(kept)!.ToHashSet() : [];
            var weights = new Dictionary<string, WeightQuantization>();
            var owned = new List<Tensor>();
            var nodes = new List<GraphNode>();
            try
            {
                foreach (var node in fused.Nodes)
                {
                    switch (node)
                    {
                        case Conv2dNode conv when fp32Layers.Contains(conv.Name):
                            var (convFloat, convFloatBias) = TakeFloatLayer(tensors, conv.Name, conv.Weight.shape);
                            nodes.Add(conv with { Weight = Owned(owned, convFloat), Bias = Owned(owned, convFloatBias) });
                            break;
                        case LinearNode linear when fp32Layers.Contains(linear.Name):
                            var (linearFloat, linearFloatBias) = TakeFloatLayer(tensors, linear.Name, linear.Weight.shape);
                            nodes.Add(linear with { Weight = Owned(owned, linearFloat), Bias = Owned(owned, linearFloatBias) });
                            break;
                        case Conv2dNode conv:
                            var convWeight = weights[conv.Name] = TakeWeight(tensors, conv.Name, conv.Weight.shape, perChannel.Contains(conv.Name));
                            nodes.Add(conv with { Weight = Owned(owned, Dequantize(convWeight)), Bias = Owned(owned, convWeight.Bias?.clone()) });
                            break;
                        case LinearNode linear:
                            var linearWeight = weights[linear.Name] = TakeWeight(tensors, linear.Name, linear.Weight.shape, perChannel.Contains(linear.Name));
                            nodes.Add(linear with { Weight = Owned(owned, Dequantize(linearWeight)), Bias = Owned(owned, linearWeight.Bias?.clone()) });
                            break;
                        case ConstantNode constant:
                            // A float op's constant belongs to the architecture, which is disposed below: the graph keeps a copy.
                            nodes.Add(constant with { Value = Owned(owned, constant.Value.detach().clone())! });
                            break;
                        default:
                            nodes.Add(node);
                            break;
                    }
                }
                if (tensors.Count > 0)
                {
                    throw new Int8CheckpointException(
                        $"The checkpoint holds tensors {model.ModelName} has no layer for: {string.Join(", ", tensors.Keys.Take(5))}.");
                }

                var graph = new ModelGraph(nodes, fused.Input, fused.Outputs, fused.OutputNames, owned);
                return new QuantizedGraph(graph, Activations(graph, Required(metadata, Keys.Activations)), weights, Required(metadata, Keys.QConfig));
            }
            catch
            {
                // The weights and dequantized copies taken so far are no longer in the caller's tensor table.
                foreach (var tensor in owned.Concat(weights.Values.SelectMany(w => new[] { w.IntWeight, w.Scales, w.ZeroPoints, w.Bias }).OfType<Tensor>()))
                {
                    tensor.Dispose();
                }
                throw;
            }
        }
    }

    private static Dictionary<GraphValue, ActivationQuantization> Activations(ModelGraph graph, string json)
    {
        var entries = JsonSerializer.Deserialize<Int8ActivationEntry[]>(json, Json) ?? [];
        var producers = graph.Nodes.ToDictionary(n => n.Output.Id);
        var activations = new Dictionary<GraphValue, ActivationQuantization>();
        foreach (var entry in entries)
        {
            if (!producers.TryGetValue(entry.Value, out var producer) || Int8ActivationEntry.Describe(producer) != entry.Producer)
            {
                throw new Int8CheckpointException(
                    $"Activation %{entry.Value} ({entry.Producer}) does not exist in the rebuilt graph: the checkpoint does not match its architecture.");
            }
            activations[producer.Output] = entry.ToQuantization();
        }
        return activations;
    }

    private static WeightQuantization TakeWeight(Dictionary<string, Tensor> tensors, string layer, long[] shape, bool perChannel)
    {
        var weight = Take(tensors, $"{layer}.weight", ScalarType.Int8);
        var scales = Take(tensors, $"{layer}.weight_scale", ScalarType.Float64);
        var zeroPoints = Take(tensors, $"{layer}.weight_zero_point", ScalarType.Int64);
        var bias = tensors.Remove($"{layer}.bias", out var b) ? b : null;
        var channels = perChannel ? shape[0] : 1;
        if (!weight.shape.SequenceEqual(shape) || scales.numel() != channels || zeroPoints.numel() != channels
            || (bias is not null && (bias.dtype != ScalarType.Float32 || bias.numel() != shape[0])))
        {
            throw new Int8CheckpointException(
                $"Layer {layer}: weight [{string.Join(", ", weight.shape)}] with {scales.numel()} scales does not fit the architecture's [{string.Join(", ", shape)}].");
        }
        return new WeightQuantization(weight, scales, zeroPoints, perChannel, bias);
    }

    private static (Tensor Weight, Tensor? Bias) TakeFloatLayer(Dictionary<string, Tensor> tensors, string layer, long[] shape)
    {
        var weight = Take(tensors, $"{layer}.weight", ScalarType.Float32);
        var bias = tensors.Remove($"{layer}.bias", out var b) ? b : null;
        if (!weight.shape.SequenceEqual(shape) || (bias is not null && (bias.dtype != ScalarType.Float32 || bias.numel() != shape[0])))
        {
            var message = $"FP32 layer {layer}: weight [{string.Join(", ", weight.shape)}] does not fit the architecture's [{string.Join(", ", shape)}].";
            weight.Dispose();
            bias?.Dispose();
            throw new Int8CheckpointException(message);
        }
        return (weight, bias);
    }

    private static Tensor Take(Dictionary<string, Tensor> tensors, string name, ScalarType dtype)
    {
        if (!tensors.Remove(name, out var tensor))
        {
            throw new Int8CheckpointException($"The checkpoint lacks tensor '{name}'.");
        }
        if (tensor.dtype != dtype)
        {
            tensor.Dispose();
            throw new Int8CheckpointException($"Tensor '{name}' is {tensor.dtype}, expected {dtype}.");
        }
        return tensor;
    }

    private static Tensor Dequantize(WeightQuantization weight)
    {
        using var scope = NewDisposeScope();
        var shape = Enumerable.Repeat(1L, (int)weight.IntWeight.dim()).ToArray();
        shape[0] = -1;
        var scales = weight.PerChannel ? weight.Scales.reshape(shape) : weight.Scales;
        var zeroPoints = weight.PerChannel ? weight.ZeroPoints.reshape(shape) : weight.ZeroPoints;
        return ((weight.IntWeight.to_type(ScalarType.Float64) - zeroPoints) * scales).to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    [return: NotNullIfNotNull(nameof(tensor))]
    private static Tensor? Owned(List<Tensor> owned, Tensor? tensor)
    {
        if (tensor is not null)
        {
            owned.Add(tensor);
        }
        return tensor;
    }

    private static string Required(Dictionary<string, string> metadata, string key) =>
        metadata.TryGetValue(key, out var value) ? value : throw new Int8CheckpointException($"The checkpoint's metadata lacks '{key}'.");
}
