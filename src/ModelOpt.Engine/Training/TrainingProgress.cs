namespace ModelOpt.Engine.Training;

/// <summary>Reported after every training batch; <see cref="Epoch"/> and <see cref="Batch"/> count from 1.</summary>
public sealed record TrainingProgress(int Epoch, int Epochs, int Batch, int BatchesPerEpoch, double Loss)
{
    /// <summary>Share of the whole run done, in [0, 1].</summary>
    public double Fraction => ((Epoch - 1) * (double)BatchesPerEpoch + Batch) / ((double)Epochs * BatchesPerEpoch);
}
