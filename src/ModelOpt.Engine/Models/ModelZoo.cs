
namespace ModelOpt.Engine.Models;

/// <summary>The registry of architectures ModelOpt can train, load and quantize.</summary>
public static class ModelZoo
{
    public const string ResNet18Cifar = "resnet18-cifar";
    public const string ResNet20 = "resnet20";
    public const string ResNet18 = "resnet18";
    public const string ResNet34 = "resnet34";
    public const string ResNet50 = "resnet50";
    public const string MobileNetV2 = "mobilenet_v2";
    public const string ResNet34Cifar = "resnet34-cifar";
    public const string ResNet50Cifar = "resnet50-cifar";
    public const string MobileNetV2Cifar = "mobilenet_v2-cifar";

    private static readonly long[] ResNetWidths = [64, 128, 256, 512];

    public static IReadOnlyList<ModelArchitecture> All { get; } =
    [
        new(ResNet18Cifar,
            "torchvision ResNet-18 with a 3x3 stride-1 conv1 and no max-pool (the notebook's CIFAR-10 model)",
            (inputChannels, numClasses, device) => new ResNet(ResNet18Cifar, ResNetWidths, [2, 2, 2, 2], false, false, inputChannels, numClasses, device)),
        new(ResNet20,
            "He et al. 2016 CIFAR ResNet-20: three stages of three BasicBlocks, 16/32/64 channels, 1x1 conv+BN shortcuts",
            (inputChannels, numClasses, device) => new ResNet(ResNet20, [16, 32, 64], [3, 3, 3], false, false, inputChannels, numClasses, device)),
        new(ResNet18, "torchvision resnet18 (ImageNet stem: 7x7 stride-2 conv, max-pool)",
            (inputChannels, numClasses, device) => new ResNet(ResNet18, ResNetWidths, [2, 2, 2, 2], false, true, inputChannels, numClasses, device)),
        new(ResNet34, "torchvision resnet34 (ImageNet stem)",
            (inputChannels, numClasses, device) => new ResNet(ResNet34, ResNetWidths, [3, 4, 6, 3], false, true, inputChannels, numClasses, device)),
        new(ResNet50, "torchvision resnet50, bottleneck blocks (ImageNet stem)",
            (inputChannels, numClasses, device) => new ResNet(ResNet50, ResNetWidths, [3, 4, 6, 3], true, true, inputChannels, numClasses, device)),
        new(MobileNetV2, "torchvision mobilenet_v2, width 1.0 (ImageNet stem: stride-2 first conv)",
            (inputChannels, numClasses, device) => new TorchVision.MobileNetV2(MobileNetV2, true, inputChannels, numClasses, device)),
        new(ResNet34Cifar, "torchvision resnet34 with the CIFAR stem (3x3 stride-1 conv1, no max-pool)",
            (inputChannels, numClasses, device) => new ResNet(ResNet34Cifar, ResNetWidths, [3, 4, 6, 3], false, false, inputChannels, numClasses, device)),
        new(ResNet50Cifar, "torchvision resnet50 with the CIFAR stem",
            (inputChannels, numClasses, device) => new ResNet(ResNet50Cifar, ResNetWidths, [3, 4, 6, 3], true, false, inputChannels, numClasses, device)),
        new(MobileNetV2Cifar, "torchvision mobilenet_v2 with the CIFAR stem (stride-1 first conv)",
            (inputChannels, numClasses, device) => new TorchVision.MobileNetV2(MobileNetV2Cifar, false, inputChannels, numClasses, device)),
    ];

    public static ModelArchitecture Get(string name) =>
        All.FirstOrDefault(a => a.Name == name)
        ?? throw new UnknownModelException(name, All.Select(a => a.Name));

    public static ZooModel Create(string name, long inputChannels, long numClasses) => Get(name).Create(inputChannels, numClasses);
}
