namespace ModelOpt.Engine.Models;

/// <summary>The registry of architectures ModelOpt can train, load and quantize.</summary>
public static class ModelZoo
{
    public const string ResNet18Cifar = "resnet18-cifar";
    public const string ResNet20 = "resnet20";

    public static IReadOnlyList<ModelArchitecture> All { get; } =
    [
        new(ResNet18Cifar,
            "torchvision ResNet-18 with a 3x3 stride-1 conv1 and no max-pool (the notebook's CIFAR-10 model)",
            (inputChannels, numClasses, device) => new CifarResNet(ResNet18Cifar, [64, 128, 256, 512], 2, inputChannels, numClasses, device)),
        new(ResNet20,
            "He et al. 2016 CIFAR ResNet-20: three stages of three BasicBlocks, 16/32/64 channels, 1x1 conv+BN shortcuts",
            (inputChannels, numClasses, device) => new CifarResNet(ResNet20, [16, 32, 64], 3, inputChannels, numClasses, device)),
    ];

    public static ModelArchitecture Get(string name) =>
        All.FirstOrDefault(a => a.Name == name)
        ?? throw new UnknownModelException(name, All.Select(a => a.Name));

    public static CifarResNet Create(string name, long inputChannels, long numClasses) => Get(name).Create(inputChannels, numClasses);
}
