using ModelOpt.Engine.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Models;

/// <summary>The two-conv residual block shared by ResNet-18 and ResNet-20; field names are torchvision's state_dict keys.</summary>
public sealed class BasicBlock : Module<Tensor, Tensor>, ITraceable
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly Conv2d conv2;
    private readonly BatchNorm2d bn2;
    private readonly Sequential? downsample;

    public BasicBlock(string name, long inPlanes, long planes, long stride, Device? device = null) : base(name)
    {
        conv1 = Conv2d(inPlanes, planes, 3, stride: stride, padding: 1, bias: false, device: device);
        bn1 = BatchNorm2d(planes, device: device);
        conv2 = Conv2d(planes, planes, 3, stride: 1, padding: 1, bias: false, device: device);
        bn2 = BatchNorm2d(planes, device: device);
        downsample = ResidualShortcut.Create(inPlanes, planes, stride, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        // In place where PyTorch's BasicBlock is (ReLU(inplace=True), out += identity): no extra activation per op.
        using var hidden = EagerConvBn.Run(conv1, bn1, input).relu_();
        var output = EagerConvBn.Run(conv2, bn2, hidden);
        var identity = downsample is null ? input : downsample.call(input);
        return output.add_(identity).relu_().MoveToOuterDisposeScope();
    }

    public GraphValue Trace(GraphBuilder graph, GraphValue input)
    {
        var output = graph.ReLU(graph.BatchNorm(bn1, graph.Conv(conv1, input)));
        output = graph.BatchNorm(bn2, graph.Conv(conv2, output));
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
            downsample?.Dispose();
        }
        base.Dispose(disposing);
    }
}
