namespace ModelOpt.Engine.Quantization.Qat;

/// <summary>One fine-tuning step done.</summary>
public sealed record QatProgress(int Epoch, int Epochs, int Batch, int BatchesPerEpoch, double Loss)
{
    public double Fraction => ((Epoch - 1) + (double)Batch / BatchesPerEpoch) / Epochs;
}
