using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Runtime.Int8Checkpoint;

/// <summary>The manifest's record of the input transform the model was calibrated and scored with, so its users feed it the same.</summary>
/// <param name="Torchvision">The transform as torchvision code would spell it.</param>
/// <param name="Resize">As the job gave it; null was the model's input size.</param>
public sealed record Int8InputTransform(
    string Torchvision, IReadOnlyList<int>? Resize, IReadOnlyList<int>? CenterCrop, string Color, IReadOnlyList<double> Mean, IReadOnlyList<double> Std, bool Antialias, string ChannelOrder = "rgb")
{
    public static Int8InputTransform From(ImagePreprocessing p) => new(
        p.Describe(), p.Resize, p.CenterCrop, p.Color.ToString().ToLowerInvariant(), p.MeanOrDefault, p.StdOrDefault, p.Antialias, p.ChannelOrder.ToString().ToLowerInvariant());
}
