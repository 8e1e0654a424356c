using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Catalog;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Execution;

/// <summary>The engine's request for a job: its settings, and the paths of its checkpoint and dataset in this worker's store.</summary>
/// <exception cref="PipelineInputException">The job's checkpoint or dataset was deleted or its file is missing.</exception>
public sealed class JobRequestFactory(ArtifactStore store, DatasetLocations datasets, IOptions<DatasetUploadOptions> datasetUploads)
{
    public OptimizationRequest Build(OptimizationJob job)
    {
        string? checkpointPath = null;
        if (!job.TrainFirst)
        {
            if (job.Checkpoint is null)
            {
                throw new PipelineInputException("The job's checkpoint has been deleted.");
            }
            checkpointPath = store.FullPath(job.Checkpoint.RelativePath);
            if (!File.Exists(checkpointPath))
            {
                throw new PipelineInputException($"The checkpoint file {job.Checkpoint.Id} is missing from the artifact store.");
            }
        }
        var spec = job.Spec;
        var uploaded = UploadedDatasetOf(job);
        var dataPath = uploaded is not null ? null : job.DataPath ?? (datasets.Find(job.Dataset) is { } dataset ? datasets.DefaultPath(dataset) : null);
        return new OptimizationRequest(job.Model, job.Dataset, dataPath, checkpointPath,
            spec.Training.ToEngine(), spec.Quantization.ToEngine(), spec.Evaluation.ToEngine(), job.Device,
            uploaded, spec.Preprocessing.ToEngine(), spec.Split.ToEngine());
    }

    private UploadedDatasetFile? UploadedDatasetOf(OptimizationJob job)
    {
        if (!job.UsesUploadedDataset)
        {
            return null;
        }
        if (job.UploadedDataset is not { } dataset)
        {
            throw new PipelineInputException($"The job's dataset '{job.Dataset}' has been deleted.");
        }
        var path = store.FullPath(dataset.RelativePath);
        if (!File.Exists(path))
        {
            throw new PipelineInputException($"The file of dataset {dataset.Id} ({dataset.FileName}) is missing from the artifact store.");
        }
        return dataset.ToEngine(path, datasetUploads.Value.ToLimits());
    }
}
