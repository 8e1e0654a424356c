using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models.TorchVision;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Models;

/// <summary>
/// torchvision's ResNet: stages of <see cref="BasicBlock"/>s or <see cref="Bottleneck"/>s after either the ImageNet stem
/// (7x7 stride-2 conv, 3x3 stride-2 max-pool) or the CIFAR stem (3x3 stride-1 conv, no max-pool). With stages
/// (64,128,256,512) it is torchvision's resnet18 / 34 / 50; with (16,32,64) x 3 BasicBlocks and the CIFAR stem it is
/// He et al.'s ResNet-20 (option-B 1x1 conv+BN shortcuts). Field names are torchvision's, so PyTorch state_dicts load unchanged.
/// </summary>
public sealed class ResNet : ZooModel
{
    private readonly Conv2d conv1;
    private readonly BatchNorm2d bn1;
    private readonly bool imageNetStem;
    private readonly Sequential layer1;
    private readonly Sequential layer2;
    private readonly Sequential layer3;
    private readonly Sequential? layer4;
    private readonly AdaptiveAvgPool2d avgpool;
    private readonly Linear fc;

    /// <param name="device">Where the weights live; <see cref="torch.META"/> builds the structure (names, shapes, dtypes) without allocating any.</param>
    public ResNet(
        string name, long[] stageWidths, int[] blocksPerStage, bool bottleneck, bool imageNetStem, long inputChannels, long numClasses, Device? device = null)
        : base(name)
    {
        if (stageWidths.Length is < 3 or > 4 || blocksPerStage.Length != stageWidths.Length)
        {
            throw new ArgumentException("A ResNet has three or four stages, each with a width and a block count.", nameof(stageWidths));
        }

        this.imageNetStem = imageNetStem;
        conv1 = imageNetStem
            ? Conv2d(inputChannels, stageWidths[0], 7, stride: 2, padding: 3, bias: false, device: device)
            : Conv2d(inputChannels, stageWidths[0], 3, stride: 1, padding: 1, bias: false, device: device);
        bn1 = BatchNorm2d(stageWidths[0], device: device);
        var inPlanes = stageWidths[0];
        var stages = new Sequential[stageWidths.Length];
        for (var s = 0; s < stageWidths.Length; s++)
        {
            var blocks = new List<(string, Module<Tensor, Tensor>)>();
            for (var b = 0; b < blocksPerStage[s]; b++)
            {
                var stride = s > 0 && b == 0 ? 2 : 1;
                var blockName = $"layer{s + 1}.{b}";
                blocks.Add(($"{b}", bottleneck
                    ? new Bottleneck(blockName, inPlanes, stageWidths[s], stride, device)
                    : new BasicBlock(blockName, inPlanes, stageWidths[s], stride, device)));
                inPlanes = stageWidths[s] * (bottleneck ? Bottleneck.Expansion : 1);
            }
            stages[s] = Sequential(blocks);
        }
        (layer1, layer2, layer3) = (stages[0], stages[1], stages[2]);
        layer4 = stages.Length == 4 ? stages[3] : null;
        avgpool = AdaptiveAvgPool2d(1);
        fc = Linear(inPlanes, numClasses, device: device);
        RegisterComponents();
        InitializeTorchVisionWeights();
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = EagerConvBn.Run(conv1, bn1, input).relu_();
        if (imageNetStem)
        {
            x = functional.max_pool2d(x, [3, 3], [2, 2], [1, 1]);
        }
        foreach (var stage in Stages())
        {
            x = stage.call(x);
        }
        x = avgpool.call(x).flatten(1);
        return fc.call(x).MoveToOuterDisposeScope();
    }

    public override GraphValue Trace(GraphBuilder graph, GraphValue input)
    {
        var x = graph.ReLU(graph.BatchNorm(bn1, graph.Conv(conv1, input)));
        if (imageNetStem)
        {
            x = graph.MaxPool(x, [3, 3], [2, 2], [1, 1]);
        }
        foreach (var stage in Stages())
        {
            foreach (var block in stage.children().Cast<ITraceable>())
            {
                x = block.Trace(graph, x);
            }
        }
        x = graph.Flatten(graph.AdaptiveAvgPool(x, [1, 1]));
        return graph.Linear(fc, x);
    }

    private IEnumerable<Sequential> Stages() => layer4 is null ? [layer1, layer2, layer3] : [layer1, layer2, layer3, layer4];

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            conv1.Dispose();
            bn1.Dispose();
            foreach (var stage in Stages())
            {
                stage.Dispose();
            }
            avgpool.Dispose();
            fc.Dispose();
        }
        base.Dispose(disposing);
    }
}
