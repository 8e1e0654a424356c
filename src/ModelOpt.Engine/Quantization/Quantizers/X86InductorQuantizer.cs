using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Observers;

namespace ModelOpt.Engine.Quantization.Quantizers;

/// <summary>
/// The x86 recipe of PyTorch's <c>X86InductorQuantizer</c>, for LibTorch's x86 / fbgemm int8 kernels, which take
/// quint8 activations and qint8 weights.
/// </summary>
public static class X86InductorQuantizer
{
    /// <summary>2^-12: PyTorch's x86 eps, which keeps scales of near-constant tensors representable by the kernels' requantization.</summary>
    public const double Eps = 1.0 / 4096;

    public static QuantizationSpec ActivationSpec(bool symmetric = false) =>
        new(ScalarType.Byte, symmetric ? QScheme.PerTensorSymmetric : QScheme.PerTensorAffine, quantMin: 0, quantMax: 255);

    public static QuantizationSpec WeightSpec(bool perChannel = true) =>
        perChannel
            ? new(ScalarType.Int8, QScheme.PerChannelSymmetric, quantMin: -128, quantMax: 127, chAxis: 0)
            : new(ScalarType.Int8, QScheme.PerTensorSymmetric, quantMin: -128, quantMax: 127);

    /// <summary>
    /// <c>get_default_x86_inductor_quantization_config()</c>: activations uint8 [0, 255] per-tensor affine observed by a
    /// <see cref="HistogramObserver"/>; weights int8 [-128, 127] per-channel symmetric on axis 0 observed by a
    /// <see cref="PerChannelMinMaxObserver"/>; both with eps 2^-12. Bias stays fp32.
    /// </summary>
    public static QConfig GetDefaultQuantizationConfig()
    {
        var activation = ActivationSpec();
        var weight = WeightSpec();
        return new QConfig(() => new HistogramObserver(activation, Eps), () => new PerChannelMinMaxObserver(weight, Eps));
    }

    /// <summary>
    /// Marks what prepare observes in a BN-folded, relu-fused graph.
    /// Step 1: the graph input and the output of every conv, add and linear (the int8 kernels' outputs) get an activation observer.
    /// Step 2: adaptive average pooling, max pooling and flatten reuse their input's quantization (no observer).
    /// Step 3: every conv and linear weight gets a weight observer.
    /// Anything else (an unfused ReLU or BatchNorm) has no int8 kernel and is rejected.
    /// </summary>
    public static GraphAnnotation Annotate(ModelGraph graph)
    {
        var observed = new List<GraphValue>();
        var weighted = new List<string>();
        foreach (var node in graph.Nodes)
        {
            switch (node)
            {
                case InputNode:
                case AddNode:
                    observed.Add(node.Output);
                    break;
                case Conv2dNode conv:
                    observed.Add(conv.Output);
                    weighted.Add(conv.Name);
                    break;
                case LinearNode linear:
                    observed.Add(linear.Output);
                    weighted.Add(linear.Name);
                    break;
                case AdaptiveAvgPool2dNode or MaxPool2dNode or FlattenNode:
                    break;
                default:
                    throw new NotSupportedException($"{node.GetType().Name} producing {node.Output} has no int8 kernel; fold or fuse it before annotating.");
            }
        }
        return new GraphAnnotation(observed, weighted);
    }
}
