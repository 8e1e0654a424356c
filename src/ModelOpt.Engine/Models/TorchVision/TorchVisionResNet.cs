using ModelOpt.Engine.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Models.TorchVision;

/// <summary>
/// torchvision's <c>resnet18</c> / <c>resnet34</c> (BasicBlocks) and <c>resnet50</c> (Bottlenecks), stage widths 64-512,
/// with the ImageNet stem (7x7 stride-2 conv, 3x3 stride-2 max-pool) or the CIFAR stem (3x3 stride-1 conv, no max-pool).
/// Field names are torchvision's, so its state_dicts load unchanged.
/// </summary>
public sealed class TorchVisionResNet : ZooModel
{
    private static readonly long[] StageWidths = [64, 128, 256, 512];

    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly bool imageNetStem;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential layer4;
    private readonly Linear fc;

    public TorchVisionResNet(string name, bool bottleneck, int[] blocksPerStage, bool imageNetStem, long inputChannels, long numClasses, Device? device = null)
        : base(name)
    {
        this.imageNetStem = imageNetStem;
        conv1 = imageNetStem
            ? Conv2d(inputChannels, 64, 7, stride: 2, padding: 3, bias: false, device: device)
            : Conv2d(inputChannels, 64, 3, stride: 1, padding: 1, bias: false, device: device);
        bn1 = BatchNorm2d(64, device: device);
        long inPlanes = 64;
        var stages = new Sequential[StageWidths.Length];
        for (var s = 0; s < StageWidths.Length; s++)
        {
            var blocks = new List<(string, Module<Tensor, Tensor>)>();
            for (var b = 0; b < blocksPerStage[s]; b++)
            {
                var stride = s > 0 && b == 0 ? 2 : 1;
                var blockName = $"layer{s + 1}.{b}";
                blocks.Add(($"{b}", bottleneck
                    ? new Bottleneck(blockName, inPlanes, StageWidths[s], stride, device)
                    : new BasicBlock(blockName, inPlanes, StageWidths[s], stride, device)));
                inPlanes = StageWidths[s] * (bottleneck ? Bottleneck.Expansion : 1);
            }
            stages[s] = Sequential(blocks);
        }
        (layer1, layer2, layer3, layer4) = (stages[0], stages[1], stages[2], stages[3]);
        fc = Linear(inPlanes, numClasses, device: device);
        RegisterComponents();
        InitializeTorchVisionWeights();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = functional.relu(bn1.call(conv1.call(input)));
        if (imageNetStem)
        {
            x = functional.max_pool2d(x, [3, 3], [2, 2], [1, 1]);
        }
        x = layer4.call(layer3.call(layer2.call(layer1.call(x))));
        x = functional.adaptive_avg_pool2d(x, [1, 1]).flatten(1);
        return fc.call(x).MoveToOuterDisposeScope();
    }

    public override GraphValue Trace(GraphBuilder graph, GraphValue input)
    {
        var x = graph.ReLU(graph.BatchNorm(bn1, graph.Conv(conv1, input)));
        if (imageNetStem)
        {
            x = graph.MaxPool(x, [3, 3], [2, 2], [1, 1]);
        }
        foreach (var stage in new[] { layer1, layer2, layer3, layer4 })
        {
            foreach (var block in stage.children().Cast<ITraceable>())
            {
                x = block.Trace(graph, x);
            }
        }
        x = graph.Flatten(graph.AdaptiveAvgPool(x, [1, 1]));
        return graph.Linear(fc, x);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            layer1.Dispose();
            layer2.Dispose();
            layer3.Dispose();
            layer4.Dispose();
            fc.Dispose();
        }
        base.Dispose(disposing);
    }
}
