using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Catalog;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// The engine's request for a job: its settings, and local paths of its checkpoint and dataset (in the shared store, or
/// downloaded from the API, through <see cref="IArtifactTransfer"/>).
/// </summary>
/// <exception cref="PipelineInputException">The job's checkpoint or dataset was deleted or its file is missing.</exception>
/// <exception cref="ArtifactTransferException">A file did not arrive intact from the API.</exception>
public sealed class JobRequestFactory(IArtifactTransfer files, DatasetLocations datasets, IOptions<DatasetUploadOptions> datasetUploads)
{
    public async Task<OptimizationRequest> BuildAsync(OptimizationJob job, CancellationToken cancellationToken)
    {
        string? checkpointPath = null;
        if (!job.TrainFirst)
        {
            if (job.Checkpoint is null)
            {
                throw new PipelineInputException("The job's checkpoint has been deleted.");
            }
            checkpointPath = await files.FetchAsync(job.Checkpoint.RelativePath, job.Checkpoint.Sha256, cancellationToken)
                ?? throw new PipelineInputException($"The checkpoint file {job.Checkpoint.Id} is missing from the artifact store.");
        }
        var spec = job.Spec;
        var uploaded = await UploadedDatasetOfAsync(job, cancellationToken);
        var dataPath = uploaded is not null ? null : job.DataPath ?? (datasets.Find(job.Dataset) is { } dataset ? datasets.DefaultPath(dataset) : null);
        // The stored sections are the engine's records: passed as they are, never mapped.
        return new OptimizationRequest(job.Model, job.Dataset, dataPath, checkpointPath, spec.Training, spec.Quantization, spec.Evaluation,
            job.Device, uploaded, spec.Preprocessing, spec.Split, spec.Compile, spec.Output, spec.Qat);
    }

    private async Task<UploadedDatasetFile?> UploadedDatasetOfAsync(OptimizationJob job, CancellationToken cancellationToken)
    {
        if (!job.UsesUploadedDataset)
        {
            return null;
        }
        if (job.UploadedDataset is not { } dataset)
        {
            throw new PipelineInputException($"The job's dataset '{job.Dataset}' has been deleted.");
        }
        var path = await files.FetchAsync(dataset.RelativePath, dataset.Sha256, cancellationToken)
            ?? throw new PipelineInputException($"The file of dataset {dataset.Id} ({dataset.FileName}) is missing from the artifact store.");
        return dataset.ToEngine(path, datasetUploads.Value.ToLimits());
    }
}
