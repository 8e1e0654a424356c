namespace ModelOpt.Engine.Quantization.Qat;

/// <summary>One epoch of fine-tuning: its mean loss over the images and how long it took.</summary>
public sealed record QatEpoch(int Epoch, double MeanLoss, TimeSpan Duration);

/// <summary>What fine-tuning did: its epochs, on how many training images, and the float weights and biases it trained, by layer.</summary>
public sealed record QatResult(IReadOnlyList<QatEpoch> Epochs, int Images, IReadOnlyDictionary<string, (Tensor Weight, Tensor? Bias)> Weights);
