using ModelOpt.Engine.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Models.TorchVision;

/// <summary>
/// torchvision's <c>mobilenet_v2</c> (width 1.0): <c>features</c> = stem conv-BN-ReLU6, 17 inverted residuals, 1x1 conv to
/// 1280; global average pool; <c>classifier</c> = dropout, linear. The ImageNet stem convolves with stride 2; the CIFAR
/// stem with stride 1 (MobileNetV2 has no max-pool). Field names are torchvision's.
/// </summary>
public sealed class MobileNetV2 : ZooModel
{
    public const long LastChannels = 1280;

    // torchvision's inverted_residual_setting: expansion t, output channels c, repeats n, first stride s.
    private static readonly (long T, long C, int N, long S)[] Setting =
        [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)];

    private readonly Sequential features;
    private readonly Sequential classifier;

    public MobileNetV2(string name, bool imageNetStem, long inputChannels, long numClasses, Device? device = null) : base(name)
    {
        var layers = new List<(string, Module<Tensor, Tensor>)> { ("0", ConvBnReLU6.Create(inputChannels, 32, 3, imageNetStem ? 2 : 1, device: device)) };
        long channels = 32;
        foreach (var (t, c, n, s) in Setting)
        {
            for (var i = 0; i < n; i++)
            {
                layers.Add(($"{layers.Count}", new InvertedResidual($"features.{layers.Count}", channels, c, i == 0 ? s : 1, t, device)));
                channels = c;
            }
        }
        layers.Add(($"{layers.Count}", ConvBnReLU6.Create(channels, LastChannels, 1, device: device)));
        features = Sequential(layers);
        classifier = Sequential(("0", Dropout(0.2)), ("1", Linear(LastChannels, numClasses, device: device)));
        RegisterComponents();
        InitializeTorchVisionWeights();
        using var _ = no_grad();
        var head = (Linear)classifier[1];
        init.normal_(head.weight, 0, 0.01);
        init.zeros_(head.bias);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        var x = functional.adaptive_avg_pool2d(features.call(input), [1, 1]).flatten(1);
        return classifier.call(x).MoveToOuterDisposeScope();
    }

    public override GraphValue Trace(GraphBuilder graph, GraphValue input)
    {
        var x = input;
        foreach (var layer in features.children())
        {
            x = layer is InvertedResidual block ? block.Trace(graph, x) : ConvBnReLU6.Trace((Sequential)layer, graph, x);
        }
        x = graph.Flatten(graph.AdaptiveAvgPool(x, [1, 1]));
        return graph.Linear((Linear)classifier[1], x);
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            features.Dispose();
            classifier.Dispose();
        }
        base.Dispose(disposing);
    }
}
