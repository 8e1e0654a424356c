using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Quantization.Fusion;
using ModelOpt.Engine.Quantization.Observers;
using ModelOpt.Engine.Quantization.Quantizers;

namespace ModelOpt.Engine.Quantization;

/// <summary>
/// Post-training static quantization in three steps, as <c>torch.ao.quantization.quantize_pt2e</c>:
/// <see cref="Prepare"/> (fold, fuse, annotate, insert observers), <see cref="Calibrate"/> (run data through the observers),
/// <see cref="Convert"/> (qparams and int8 weights).
/// </summary>
public static class QuantizePt2e
{
    /// <summary>
    /// Folds BatchNorm (before annotation, as PTQ does in <c>prepare_pt2e</c>), fuses conv / add + relu, and creates a fresh
    /// observer from <paramref name="qconfig"/> for every value and weight <see cref="X86InductorQuantizer.Annotate"/> marks.
    /// <paramref name="captured"/> is left untouched and must outlive the prepared model (unfolded tensors are borrowed from it).
    /// The conv / linear layers named in <paramref name="keepFloat"/> get no observers and stay FP32.
    /// </summary>
    /// <exception cref="QuantizationException">A name in <paramref name="keepFloat"/> is no conv or linear layer of the model.</exception>
    public static PreparedModel Prepare(ModelGraph captured, QConfig qconfig, IReadOnlyCollection<string>? keepFloat = null)
    {
        ArgumentNullException.ThrowIfNull(captured);
        ArgumentNullException.ThrowIfNull(qconfig);
        ModelGraph? graph = null;
        var created = new List<ObserverBase>();
        try
        {
            using (var folded = GraphFusion.FoldBatchNorm(captured))
            {
                graph = GraphFusion.FuseReLU(folded);
            }
            var annotation = X86InductorQuantizer.Annotate(graph, keepFloat);
            var names = graph.Nodes.OfType<Conv2dNode>().ToDictionary(c => c.Output, c => c.Name);
            foreach (var linear in graph.Nodes.OfType<LinearNode>())
            {
                names[linear.Output] = linear.Name;
            }

            ObserverBase Create(Func<ObserverBase> factory, string label)
            {
                var observer = factory() ?? throw new InvalidOperationException("A QConfig observer factory returned null.");
                if (created.Any(o => ReferenceEquals(o, observer)))
                {
                    throw new InvalidOperationException("A QConfig observer factory returned the same instance twice; observers cannot be shared.");
                }
                observer.Label = label;
                created.Add(observer);
                return observer;
            }

            var activations = annotation.ObservedValues.ToDictionary(
                v => v,
                v => Create(qconfig.Activation, names.TryGetValue(v, out var name) ? $"activation {v} ({name})" : $"activation {v} (input)"));
            var weights = annotation.WeightedNodes.ToDictionary(n => n, n => Create(qconfig.Weight, $"weight of {n}"));
            return new PreparedModel(graph, qconfig, activations, weights);
        }
        catch
        {
            created.ForEach(o => o.Dispose());
            graph?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs every batch (N x C x H x W, owned by the caller) through the prepared graph in FP32 under no_grad, feeding each
    /// observed value to its observer. The graph has no training mode: BN is folded from running statistics, so this is eval.
    /// Cancellation is checked before each batch; observers keep what they saw so far.
    /// </summary>
    public static void Calibrate(
        PreparedModel prepared,
        IEnumerable<Tensor> batches,
        IProgress<CalibrationProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        ArgumentNullException.ThrowIfNull(batches);
        if (prepared.IsConverted)
        {
            throw new InvalidOperationException("The prepared model has already been converted; its graph belongs to the QuantizedGraph.");
        }
        int? total = batches switch
        {
            IReadOnlyCollection<Tensor> c => c.Count,
            ICollection<Tensor> c => c.Count,
            _ => null,
        };
        var observers = prepared.ActivationObservers;
        void Observe(GraphValue value, Tensor tensor)
        {
            if (observers.TryGetValue(value, out var observer))
            {
                observer.Observe(tensor);
            }
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        foreach (var batch in batches)
        {
            cancellationToken.ThrowIfCancellationRequested();
            GraphInterpreter.Run(prepared.Graph, batch, Observe);
            prepared.BatchesObserved++;
            prepared.ImagesObserved += batch.shape[0];
            scope.DisposeEverything();
            progress?.Report(new CalibrationProgress(prepared.BatchesObserved, total, prepared.ImagesObserved));
        }
    }

    /// <summary>Each observed activation's qparams as its observer computes them now: what calibration hands to convert.</summary>
    public static IReadOnlyDictionary<GraphValue, ActivationQuantization> ActivationQParams(PreparedModel prepared)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        return prepared.ActivationObservers.ToDictionary(kv => kv.Key, kv => ActivationQParams(kv.Value));
    }

    /// <summary>
    /// Computes each activation's qparams from its observer and quantizes every conv / linear weight with its weight
    /// observer (int_repr, float64 scales, int64 zero points, fp32 bias); layers without a weight observer (kept FP32)
    /// keep their float weights in the graph. The returned graph takes over the prepared
    /// model's graph tensors; dispose the prepared model afterwards to free the observers. Converts once.
    /// </summary>
    /// <param name="calibrated">
    /// Qparams an earlier calibration computed (<see cref="ActivationQParams"/>), used instead of the observer's for the values
    /// they cover: a calibration persisted by one stage and converted by another.
    /// </param>
    public static QuantizedGraph Convert(PreparedModel prepared, IReadOnlyDictionary<GraphValue, ActivationQuantization>? calibrated = null)
    {
        ArgumentNullException.ThrowIfNull(prepared);
        if (prepared.IsConverted)
        {
            throw new InvalidOperationException("The prepared model has already been converted.");
        }
        var activations = new Dictionary<GraphValue, ActivationQuantization>();
        var weights = new Dictionary<string, WeightQuantization>();
        try
        {
            foreach (var (value, observer) in prepared.ActivationObservers)
            {
                activations[value] = calibrated is not null && calibrated.TryGetValue(value, out var given) ? given : ActivationQParams(observer);
            }
            foreach (var node in prepared.Graph.Nodes)
            {
                var (name, weight, bias) = node switch
                {
                    Conv2dNode conv => (conv.Name, conv.Weight, conv.Bias),
                    LinearNode linear => (linear.Name, linear.Weight, linear.Bias),
                    _ => (null, null, null),
                };
                if (name is not null && weight is not null && prepared.WeightObservers.TryGetValue(name, out var observer))
                {
                    weights[name] = QuantizeWeight(observer, weight, bias);
                }
            }
        }
        catch
        {
            foreach (var w in weights.Values)
            {
                w.IntWeight.Dispose();
                w.Scales.Dispose();
                w.ZeroPoints.Dispose();
                w.Bias?.Dispose();
            }
            throw;
        }
        var graph = new ModelGraph(prepared.Graph.Nodes, prepared.Graph.Input, prepared.Graph.Outputs, prepared.Graph.OutputNames, prepared.Graph.TakeOwnedTensors());
        prepared.IsConverted = true;
        return new QuantizedGraph(graph, activations, weights, prepared.QConfig.Describe());
    }

    private static ActivationQuantization ActivationQParams(ObserverBase observer)
    {
        var (scale, zeroPoint) = observer.CalculateQParams();
        using (scale)
        using (zeroPoint)
        {
            var dtype = observer.Dtype switch
            {
                ScalarType.Byte => ScalarType.QUInt8,
                ScalarType.Int8 => ScalarType.QInt8,
                var other => throw new NotSupportedException($"Activations of dtype {other} have no int8 kernel."),
            };
            return new ActivationQuantization(scale.item<float>(), zeroPoint.item<long>(), dtype, observer.Spec.QuantMin, observer.Spec.QuantMax);
        }
    }

    /// <summary>A weight quantized with a fresh observer of <paramref name="qconfig"/>, as <see cref="Convert"/> quantizes it.</summary>
    public static WeightQuantization QuantizeWeight(QConfig qconfig, Tensor weight, Tensor? bias)
    {
        using var observer = qconfig.Weight();
        return QuantizeWeight(observer, weight, bias);
    }

    private static WeightQuantization QuantizeWeight(ObserverBase observer, Tensor weight, Tensor? bias)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var w = weight.detach().to_type(ScalarType.Float32);
        observer.Observe(w);
        var (scale, zeroPoint) = observer.CalculateQParams();
        var spec = observer.Spec;
        var perChannel = spec.IsPerChannel;
        if (perChannel && spec.ChAxis != WeightQuantization.ChannelAxis)
        {
            throw new NotSupportedException($"Weights are quantized along axis {WeightQuantization.ChannelAxis}, not {spec.ChAxis}.");
        }
        var scales = scale.to_type(ScalarType.Float64).reshape(-1);
        var zeroPoints = zeroPoint.to_type(ScalarType.Int64).reshape(-1);
        var intWeight = perChannel
            ? QuantizedDecomposed.QuantizePerChannel(w, scales, zeroPoints, WeightQuantization.ChannelAxis, spec.QuantMin, spec.QuantMax, spec.Dtype)
            : QuantizedDecomposed.QuantizePerTensor(w, scales.item<double>(), zeroPoints.item<long>(), spec.QuantMin, spec.QuantMax, spec.Dtype);
        var fp32Bias = bias?.detach().to_type(ScalarType.Float32).clone();
        return new WeightQuantization(
            intWeight.MoveToOuterDisposeScope(),
            scales.MoveToOuterDisposeScope(),
            zeroPoints.MoveToOuterDisposeScope(),
            perChannel,
            fp32Bias?.MoveToOuterDisposeScope());
    }
}
