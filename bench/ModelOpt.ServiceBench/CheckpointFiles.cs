using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Models;

namespace ModelOpt.ServiceBench;

/// <summary>Real checkpoints written by the engine: a freshly initialised zoo model's state dict, as .safetensors.</summary>
public static class CheckpointFiles
{
    /// <summary>resnet18-cifar (3 input channels, 10 classes): ~44.7 MB of FP32 weights, the size of the notebook's checkpoint.</summary>
    public static string WriteResNet18(string folder) => Write(folder, ModelZoo.ResNet18Cifar);

    /// <summary>resnet20: ~1 MB, for the warm-up uploads (3 channels) and the dataset scoring job (1 channel).</summary>
    public static string WriteResNet20(string folder, int inputChannels = 3) => Write(folder, ModelZoo.ResNet20, inputChannels);

    private static string Write(string folder, string model, int inputChannels = 3)
    {
        var path = Path.Combine(folder, $"{model}-{inputChannels}ch.safetensors");
        using var module = ModelZoo.Create(model, inputChannels, numClasses: 10);
        CheckpointWriter.Save(module, path);
        return path;
    }
}
