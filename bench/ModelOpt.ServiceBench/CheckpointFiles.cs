using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Models;

namespace ModelOpt.ServiceBench;

/// <summary>Real checkpoints written by the engine: a freshly initialised zoo model's state dict, as .safetensors.</summary>
public static class CheckpointFiles
{
    /// <summary>resnet18-cifar (3 input channels, 10 classes): ~44.7 MB of FP32 weights, the size of the notebook's checkpoint.</summary>
    public static string WriteResNet18(string folder) => Write(folder, ModelZoo.ResNet18Cifar);

    /// <summary>resnet20: ~1 MB, for the warm-up uploads.</summary>
    public static string WriteResNet20(string folder) => Write(folder, ModelZoo.ResNet20);

    private static string Write(string folder, string model)
    {
        var path = Path.Combine(folder, $"{model}.safetensors");
        using var module = ModelZoo.Create(model, inputChannels: 3, numClasses: 10);
        CheckpointWriter.Save(module, path);
        return path;
    }
}
