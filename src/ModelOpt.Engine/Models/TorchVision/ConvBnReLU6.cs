using ModelOpt.Engine.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Models.TorchVision;

/// <summary>torchvision's <c>Conv2dNormActivation</c> as MobileNetV2 uses it: a Sequential of conv (0), BatchNorm (1) and ReLU6 (2).</summary>
internal static class ConvBnReLU6
{
    public static Sequential Create(long inChannels, long outChannels, long kernel, long stride = 1, long groups = 1, Device? device = null) => Sequential(
        ("0", Conv2d(inChannels, outChannels, kernel, stride: stride, padding: (kernel - 1) / 2, groups: groups, bias: false, device: device)),
        ("1", BatchNorm2d(outChannels, device: device)),
        ("2", ReLU6()));

    /// <summary>Traces a Sequential of convs, BatchNorms, ReLU6s and nested such Sequentials, in order.</summary>
    public static GraphValue Trace(Sequential sequence, GraphBuilder graph, GraphValue x)
    {
        foreach (var child in sequence.children())
        {
            x = child switch
            {
                Conv2d conv => graph.Conv(conv, x),
                BatchNorm2d bn => graph.BatchNorm(bn, x),
                TorchSharp.Modules.ReLU6 => graph.Clamp(x, 0, 6),
                Sequential nested => Trace(nested, graph, x),
                _ => throw new NotSupportedException($"MobileNetV2 has no {child.GetType().Name} layer."),
            };
        }
        return x;
    }
}
