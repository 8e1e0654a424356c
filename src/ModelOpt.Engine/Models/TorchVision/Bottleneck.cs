using ModelOpt.Engine.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Models.TorchVision;

/// <summary>torchvision's ResNet-50 bottleneck (v1.5: the stride on the 3x3 conv), expansion 4; field names are its state_dict keys.</summary>
public sealed class Bottleneck : Module<Tensor, Tensor>, ITraceable
{
    public const long Expansion = 4;

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Conv2d conv3;
    private readonly BatchNorm2d bn3;
    private readonly Sequential? downsample;

    public Bottleneck(string name, long inPlanes, long planes, long stride, Device? device = null) : base(name)
    {
        var outPlanes = planes * Expansion;
        conv1 = Conv2d(inPlanes, planes, 1, bias: false, device: device);
        bn1 = BatchNorm2d(planes, device: device);
        conv2 = Conv2d(planes, planes, 3, stride: stride, padding: 1, bias: false, device: device);
        bn2 = BatchNorm2d(planes, device: device);
        conv3 = Conv2d(planes, outPlanes, 1, bias: false, device: device);
        bn3 = BatchNorm2d(outPlanes, device: device);
        downsample = ResidualShortcut.Create(inPlanes, outPlanes, stride, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        // In place where torchvision's Bottleneck is; see EagerConvBn for why intermediates are released early.
        using var first = EagerConvBn.Run(conv1, bn1, input).relu_();
        using var second = EagerConvBn.Run(conv2, bn2, first).relu_();
        var output = EagerConvBn.Run(conv3, bn3, second);
        var identity = downsample is null ? input : downsample.call(input);
        return output.add_(identity).relu_().MoveToOuterDisposeScope();
    }

    public GraphValue Trace(GraphBuilder graph, GraphValue input)
    {
        var output = graph.ReLU(graph.BatchNorm(bn1, graph.Conv(conv1, input)));
        output = graph.ReLU(graph.BatchNorm(bn2, graph.Conv(conv2, output)));
        output = graph.BatchNorm(bn3, graph.Conv(conv3, output));
        var identity = ResidualShortcut.Trace(downsample, graph, input);
        return graph.ReLU(graph.Add(output, identity));
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            conv2.Dispose();
            bn2.Dispose();
            conv3.Dispose();
            bn3.Dispose();
            downsample?.Dispose();
        }
        base.Dispose(disposing);
    }
}
