using ModelOpt.Api.Infrastructure;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Catalog;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Api.Application.Jobs;

/// <summary>
/// The dataset a job request names (a built-in name or an uploaded dataset's id), and whether it fits the job.
/// <c>Name</c> is the built-in dataset's canonical name, or the upload's name. An unlabeled upload (<c>Labeled</c> false)
/// has 0 classes.
/// </summary>
public sealed record JobDataset(string Name, int Channels, int Classes, (int Height, int Width)? ImageSize, UploadedDataset? Uploaded, bool Labeled = true)
{
    /// <summary>Resolves the request's dataset; adds an error under <c>dataset</c> and returns null when it names none.</summary>
    public static async Task<JobDataset?> ResolveAsync(string value, ModelOptDbContext db, DatasetLocations builtIn,
        Dictionary<string, string[]> errors, CancellationToken cancellationToken)
    {
        if (Guid.TryParse(value, out var id))
        {
            if (await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken) is { } uploaded)
            {
                return new JobDataset(uploaded.Name, uploaded.Channels, uploaded.ClassNames.Count,
                    uploaded.ImageHeight is { } h && uploaded.ImageWidth is { } w ? (h, w) : null, uploaded, uploaded.Labeled);
            }
            // Another team's upload is not found either (ADR-024).
            throw new NotFoundException($"Dataset {id} does not exist.");
        }
        if (builtIn.Find(value) is { } dataset)
        {
            return new JobDataset(dataset.Name, dataset.Channels, dataset.Classes,
                dataset.ImageSide is { } side ? (side, side) : null, null);
        }
        errors["dataset"] = [$"Unknown dataset '{value}'. Known datasets: {string.Join(", ", builtIn.All.Select(d => d.Name))}, or an uploaded dataset's id."];
        return null;
    }

    /// <summary>What to set when a checkpoint's classes are not the labels': a generic job does not compare them.</summary>
    public const string GenericTaskRemedy = "set output.task to \"generic\" to measure fidelity to the FP32 model instead of top-1 against the labels";

    /// <summary>
    /// Whether the model's classes must be the dataset's: only a classification job's, scored against labels, and only on a
    /// labeled set; a generic job compares with FP32 and keeps the checkpoint's classes (ADR-020).
    /// </summary>
    public bool ComparesClasses(JobTask? task) => Labeled && task != JobTask.Generic;

    /// <summary>
    /// Adds the errors of a job that cannot run on this dataset: a transform it cannot apply, training (<paramref name="trains"/>:
    /// no checkpoint) on images without labels, or a checkpoint whose input channels or classes differ from the dataset's
    /// (after the colour conversion; an unlabeled set has no classes to compare).
    /// </summary>
    public void Check(ImagePreprocessing preprocessing, Checkpoint? checkpoint, bool trains, JobTask? task, Dictionary<string, string[]> errors)
    {
        if (trains && !Labeled)
        {
            errors["dataset"] = [$"Dataset '{Name}' has no labels, and training needs labels: give a checkpointId to quantize a trained model "
                                 + "(it is compared with its FP32 self on these images), or upload the images in class folders."];
            return;
        }
        if (preprocessing.Problem(Channels) is { } problem)
        {
            errors["preprocessing"] = [problem];
            return;
        }
        if (ImageSize is null && !preprocessing.HasFixedOutputSize)
        {
            errors["preprocessing.resize"] = [$"The images of '{Name}' differ in size: give centerCrop or an exact resize [height, width] so that they can be batched."];
        }
        // A checkpoint whose sizes the reader could not infer at upload fails its job with the reader's reason.
        if (checkpoint is not { InputChannels: { } modelChannels, NumClasses: { } modelClasses })
        {
            return;
        }
        var channels = preprocessing.OutputChannels(Channels);
        if (modelChannels != channels)
        {
            errors["dataset"] = [$"Dataset '{Name}' gives {channels}-channel images{(channels != Channels ? " after the colour conversion" : "")}, "
                                 + $"but the checkpoint's model takes {modelChannels} channel(s); set preprocessing.color to "
                                 + $"{(modelChannels == 1 ? "grayscale" : "rgb")} or use another checkpoint."];
        }
        else if (ComparesClasses(task) && modelClasses != Classes)
        {
            errors["dataset"] = [$"Dataset '{Name}' has {Classes} classes, but the checkpoint's model predicts {modelClasses}; {GenericTaskRemedy}."];
        }
    }
}
