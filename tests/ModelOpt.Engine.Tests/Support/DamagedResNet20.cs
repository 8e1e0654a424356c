using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Models;

namespace ModelOpt.Engine.Tests.Support;

/// <summary>
/// The trained resnet20 with one layer made ruinous for per-channel int8 and harmless in FP32: its input channel 0 is
/// dead (its BatchNorm shift drives the ReLU to zero) and every output channel's weight on that input is a huge
/// outlier, so each channel's int8 scale rounds the real weights to zero while the FP32 output is unchanged. The
/// budget tests (top-1 and fidelity) must keep exactly this layer in FP32.
/// </summary>
internal static class DamagedResNet20
{
    public const string Layer = "layer2.0.conv2";

    /// <summary>Writes the damaged checkpoint into <paramref name="directory"/> once and returns its path.</summary>
    public static string Checkpoint(TrainedResNet20 trained, string directory)
    {
        var path = Path.Combine(directory, "resnet20-damaged.pth");
        if (File.Exists(path))
        {
            return path;
        }
        using var model = CheckpointLoader.Load(trained.CheckpointPath, ModelZoo.ResNet20);
        var state = model.state_dict();
        using (no_grad())
        {
            state["layer2.0.bn1.bias"][0] = -1e4f;
            var weight = state[$"{Layer}.weight"];
            using var outlier = weight.abs().max() * 100;
            weight[.., 0, 1, 1] = outlier;
        }
        CheckpointWriter.Save(model, path);
        return path;
    }
}
