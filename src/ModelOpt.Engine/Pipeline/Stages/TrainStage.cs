using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Training;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>Trains the FP32 model from scratch when the job names no checkpoint (the notebook's <c>train</c>).</summary>
internal static class TrainStage
{
    public static StageProducts Run(StageContext context)
    {
        if (!context.HasLabels)
        {
            throw new ArgumentException("Training needs class labels and this dataset has none: give a checkpoint (a generic job only calibrates and measures).");
        }
        random.manual_seed(context.Request.Training.Seed);
        using var model = context.CreateModel();
        var progress = new SynchronousProgress<TrainingProgress>(p =>
            context.Report(p.Fraction, $"epoch {p.Epoch}/{p.Epochs}, batch {p.Batch}/{p.BatchesPerEpoch}, loss {p.Loss:F4}"));
        var result = Trainer.Train(model, context.Data.Train, context.Request.Training, progress, context.CancellationToken);
        context.Workspace.Write(JobWorkspace.TrainedCheckpoint, path =>
        {
            using var file = File.Create(path);
            CheckpointWriter.Save(model, file, CheckpointFormat.PyTorch);
        });
        var epochs = string.Join(", ", result.EpochDurations.Select(d => $"{d.TotalSeconds:F1} s"));
        context.Report(1, $"trained on {result.ImagesPerEpoch} images per epoch, epoch times {epochs}, final loss {result.FinalLoss:F4}");
        return new StageProducts([], [context.Workspace.Artifact(JobWorkspace.TrainedCheckpoint)]);
    }
}
