using ModelOpt.Engine.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Models.TorchVision;

/// <summary>
/// MobileNetV2's block as torchvision names it: <c>conv</c> = [1x1 expand conv-BN-ReLU6 (unless the ratio is 1)],
/// 3x3 depthwise conv-BN-ReLU6, 1x1 linear projection conv, BN; a residual add when stride is 1 and widths match.
/// </summary>
public sealed class InvertedResidual : Module<Tensor, Tensor>, ITraceable
{
    private readonly Sequential conv;
    private readonly bool useResidual;

    public InvertedResidual(string name, long inChannels, long outChannels, long stride, long expandRatio, Device? device = null) : base(name)
    {
        var hidden = inChannels * expandRatio;
        useResidual = stride == 1 && inChannels == outChannels;
        var layers = new List<(string, Module<Tensor, Tensor>)>();
        if (expandRatio != 1)
        {
            layers.Add(("0", ConvBnReLU6.Create(inChannels, hidden, 1, device: device)));
        }
        layers.Add(($"{layers.Count}", ConvBnReLU6.Create(hidden, hidden, 3, stride, groups: hidden, device: device)));
        layers.Add(($"{layers.Count}", Conv2d(hidden, outChannels, 1, bias: false, device: device)));
        layers.Add(($"{layers.Count}", BatchNorm2d(outChannels, device: device)));
        conv = Sequential(layers);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var output = conv.call(input);
        return (useResidual ? input + output : output).MoveToOuterDisposeScope();
    }

    public GraphValue Trace(GraphBuilder graph, GraphValue input)
    {
        var output = ConvBnReLU6.Trace(conv, graph, input);
        return useResidual ? graph.Add(input, output) : output;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv.Dispose();
        }
        base.Dispose(disposing);
    }
}
