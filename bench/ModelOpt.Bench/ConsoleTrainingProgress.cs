using ModelOpt.Engine.Training;

namespace ModelOpt.Bench;

/// <summary>Prints training progress about every tenth of an epoch, on the training thread.</summary>
internal sealed class ConsoleTrainingProgress : IProgress<TrainingProgress>
{
    public void Report(TrainingProgress value)
    {
        var every = Math.Max(1, value.BatchesPerEpoch / 10);
        if (value.Batch % every == 0 || value.Batch == value.BatchesPerEpoch)
        {
            Console.WriteLine($"  epoch {value.Epoch}/{value.Epochs} batch {value.Batch}/{value.BatchesPerEpoch} loss {value.Loss:F4}");
        }
    }
}
