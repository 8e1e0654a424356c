using System.Text.Json;
using Microsoft.Extensions.Options;
using ModelOpt.Api.Application.Catalog;
using ModelOpt.Api.Application.Checkpoints;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Catalog;
using ModelOpt.Jobs.Dispatch;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Lifecycle;
using ModelOpt.Jobs.Options;
using ModelOpt.Jobs.Workers;

namespace ModelOpt.Api.Application.Jobs;

/// <summary>
/// Creates a job from a request, or, for a request that repeats an earlier one's idempotency key, answers that request's job.
/// The job row is the outbox entry: the dispatch relay hands it to Hangfire, so the request waits for no queue.
/// </summary>
public sealed class SubmitJobHandler(
    ModelOptDbContext db, JobStateMachine states, DispatchSignal dispatch, DatasetLocations datasets, ArtifactStore store, TimeProvider time,
    WorkerRegistry workers, IOptions<JobsOptions> options)
{
    /// <param name="request">The request as the client sent it; sections left out take their defaults.</param>
    /// <param name="idempotencyKey">The stored form of the request's key (<see cref="IdempotencyKey.Of"/>); null without one.</param>
    /// <param name="cancellationToken">Cancels the request.</param>
    /// <returns>The created job, or the one an earlier request with the same key created.</returns>
    /// <exception cref="RequestValidationException">The request's fields cannot make a job, each named.</exception>
    /// <exception cref="NotFoundException">The checkpoint or uploaded dataset it names does not exist (or is another team's).</exception>
    /// <exception cref="ConflictException">No live worker serves the device and the service refuses such jobs.</exception>
    /// <exception cref="IdempotencyKeyMismatchException">The key was first sent with another request.</exception>
    public async Task<JobDto> HandleAsync(CreateJobRequest request, string? idempotencyKey, CancellationToken cancellationToken)
    {
        request.Training ??= new();
        request.Quantization ??= new();
        request.Evaluation ??= new();
        request.Compile ??= new();
        request.Preprocessing ??= new();
        request.Split ??= new();
        request.Output ??= new();
        request.Qat ??= new();
        RequestValidator.NormalizeChoices(request);
        if (idempotencyKey is not null && await FindByIdempotencyKeyAsync(idempotencyKey, request, cancellationToken) is { } earlier)
        {
            return earlier;
        }
        var errors = RequestValidator.Validate(request);
        var dataset = request.Dataset is { } named ? await JobDataset.ResolveAsync(named, db, datasets, errors, cancellationToken) : null;
        if (dataset?.Uploaded is not null && !string.IsNullOrWhiteSpace(request.DataPath))
        {
            errors["dataPath"] = ["An uploaded dataset is read from the artifact store: leave dataPath empty."];
        }
        else if (!string.IsNullOrWhiteSpace(request.DataPath) && datasets.RefusedDataPath(request.DataPath) is { } refused)
        {
            errors["dataPath"] = [refused];
        }
        Checkpoint? checkpoint = null;
        if (request.CheckpointId is { } checkpointId)
        {
            // Another team's checkpoint is not found either (ADR-024).
            checkpoint = await db.Checkpoints.AsNoTracking().SingleOrDefaultAsync(c => c.Id == checkpointId, cancellationToken)
                         ?? throw new NotFoundException($"Checkpoint {checkpointId} does not exist.");
            if (checkpoint.Model is not null && request.Model is not null && checkpoint.Model != request.Model)
            {
                errors["checkpointId"] = [$"Checkpoint {checkpointId} was checked against model '{checkpoint.Model}', not '{request.Model}'."];
            }
        }
        var onnx = checkpoint?.Format == CheckpointFormat.Onnx;
        var model = request.Model ?? (onnx ? checkpoint!.Model : null);
        if (model is null)
        {
            errors["model"] = ["The model field is required unless the checkpoint is an ONNX model, which carries its own."];
        }
        else if (!onnx && !ModelCatalog.IsKnown(model))
        {
            errors["model"] = [ModelCatalog.UnknownModelReason(model)];
        }
        if (!onnx && request.Output.Name is not null)
        {
            errors["output.name"] = ["Only an ONNX checkpoint has named outputs to choose from: leave output.name out."];
        }
        if (errors.Count == 0)
        {
            // The dataset's checks read what the request's annotations have already validated (colour names, lengths).
            var preprocessing = request.Preprocessing;
            dataset!.Check(preprocessing, onnx ? null : checkpoint, trains: checkpoint is null, request.Output.Task, errors);
            var onnxModel = onnx && errors.Count == 0 ? OnnxModelFor(checkpoint!, dataset, preprocessing, request.Output.Name) : null;
            if (onnxModel is not null && OnnxInputMismatch(onnxModel, dataset, preprocessing, request.Output.Task) is { } mismatch)
            {
                errors["dataset"] = [mismatch];
            }
            // A classification job measures one output (ADR-023): a model with several needs the logits named.
            // The file is read here only when the size check above did not read it.
            if (onnxModel is not null && errors.Count == 0 && request.Output is { Task: JobTask.Classification, Name: null }
                && (onnxModel.OutputNames ?? OnnxCheckpointInspector.OutputNames(store.FullPath(checkpoint!.RelativePath), checkpoint.FileName)) is { Count: > 1 } outputs)
            {
                errors["output.name"] = [$"A classification job measures one output, its logits; this model has {outputs.Count} ({string.Join(", ", outputs)}). " +
                    "Name the logits with output.name, or set output.task to \"generic\" to measure every output's fidelity to FP32."];
            }
        }
        if (errors.Count > 0)
        {
            throw new RequestValidationException(errors);
        }

        var queue = WorkerOptions.QueueFor(request.Device);
        IReadOnlyList<string> warnings = await workers.WarningsForQueuedAsync(request.Device, queue, cancellationToken);
        if (warnings.Count > 0 && options.Value.WithoutWorker == JobsWithoutWorker.Refuse)
        {
            throw new ConflictException(
                $"No live worker serves device '{request.Device}' (queue '{queue}'), and this service refuses such jobs (ModelOpt:Jobs:WithoutWorker = Refuse). "
                + "Start a worker for that device, or submit for a device GET /api/workers lists.");
        }
        var now = time.GetUtcNow().UtcDateTime;
        var job = states.Submit(new OptimizationJob
        {
            Id = Guid.CreateVersion7(),
            Model = model!,
            Dataset = dataset!.Name,
            DatasetId = dataset.Uploaded?.Id,
            UsesUploadedDataset = dataset.Uploaded is not null,
            DataPath = string.IsNullOrWhiteSpace(request.DataPath) ? null : request.DataPath,
            CheckpointId = checkpoint?.Id,
            TrainFirst = checkpoint is null,
            Device = request.Device,
            Queue = queue,
            Spec = request.ToSpec(),
            CreatedAt = now,
            IdempotencyKey = idempotencyKey,
        });
        if (warnings.Count > 0)
        {
            job.ProgressMessage = WorkerRegistry.WaitingMessage(request.Device);
        }
        db.Jobs.Add(job);
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (idempotencyKey is not null)
        {
            // A concurrent retry with the same key inserted first: answer with its job.
            db.ChangeTracker.Clear();
            if (await FindByIdempotencyKeyAsync(idempotencyKey, request, cancellationToken) is { } concurrent)
            {
                return concurrent;
            }
            throw;
        }
        dispatch.Notify();
        return job.ToDto(now, warnings);
    }

    /// <summary>The job an earlier request with this key created, if it asked for the same job; null when the key is new.</summary>
    /// <exception cref="IdempotencyKeyMismatchException">The earlier request asked for another job.</exception>
    private async Task<JobDto?> FindByIdempotencyKeyAsync(string idempotencyKey, CreateJobRequest request, CancellationToken cancellationToken)
    {
        var id = await db.Jobs.Where(j => j.IdempotencyKey == idempotencyKey).Select(j => (Guid?)j.Id).SingleOrDefaultAsync(cancellationToken);
        if (id is null)
        {
            return null;
        }
        var job = await JobRows.LoadAsync(db, id.Value, cancellationToken);
        if (!AsksFor(request, job))
        {
            throw new IdempotencyKeyMismatchException(
                $"The {IdempotencyKey.Header} was first used for job {job.Id}, whose request differs from this one. Send a new key for a new job.");
        }
        return job.ToDto(time.GetUtcNow().UtcDateTime);
    }

    /// <summary>Whether <paramref name="request"/> asks for the job <paramref name="job"/> was created as (fields left out taking their defaults).</summary>
    private static bool AsksFor(CreateJobRequest request, OptimizationJob job) =>
        (request.Model is null || request.Model == job.Model)
        && (request.Dataset == job.Dataset || (job.DatasetId is { } datasetId && Guid.TryParse(request.Dataset, out var asked) && asked == datasetId))
        && (string.IsNullOrWhiteSpace(request.DataPath) ? null : request.DataPath) == job.DataPath
        && request.CheckpointId == job.CheckpointId
        && request.Device == job.Device
        && JsonSerializer.Serialize(request.ToSpec(), JobSpec.Json) == JsonSerializer.Serialize(job.Spec, JobSpec.Json);

    /// <summary>
    /// The ONNX model as the job will read it: as checked at upload, or — when its H and W are dynamic or the job names an
    /// output — imported now at the size the job's preprocessing gives, so a shape or output it cannot take is refused
    /// here (400/422), not in the job.
    /// </summary>
    private OnnxCheckpointInspector.Summary OnnxModelFor(
        Checkpoint checkpoint, JobDataset dataset, Engine.Data.ImagePreprocessing preprocessing, string? outputName)
    {
        if (checkpoint is { InputHeight: { } fixedHeight, InputWidth: { } fixedWidth } && outputName is null)
        {
            return new OnnxCheckpointInspector.Summary(checkpoint.Model!, checkpoint.InputChannels ?? 0, fixedHeight, fixedWidth,
                checkpoint.NumClasses is { } classes ? [classes] : null);
        }
        var (height, width) = preprocessing.OutputSize(dataset.ImageSize?.Height ?? 1, dataset.ImageSize?.Width ?? 1);
        return OnnxCheckpointInspector.InspectAt(store.FullPath(checkpoint.RelativePath), checkpoint.FileName, height, width, outputName);
    }

    /// <summary>
    /// Why the ONNX model cannot take the dataset's images (channels, size, and classes unless the set is unlabeled or the job
    /// is generic, which compares with FP32, not with the labels: ADR-020), with the settings that would fit them; null when it can.
    /// </summary>
    private static string? OnnxInputMismatch(OnnxCheckpointInspector.Summary model, JobDataset dataset, Engine.Data.ImagePreprocessing preprocessing, JobTask? task)
    {
        var (height, width) = preprocessing.OutputSize(dataset.ImageSize?.Height ?? 1, dataset.ImageSize?.Width ?? 1);
        long[] images = [preprocessing.OutputChannels(dataset.Channels), height, width];
        long[] input = [model.Channels, model.Height ?? height, model.Width ?? width];
        // An output that is not (N, C) logits has no classes to compare.
        var labels = dataset.ComparesClasses(task) && model.NumClasses is not null;
        if (input.SequenceEqual(images) && (!labels || model.NumClasses == dataset.Classes))
        {
            return null;
        }
        var remedies = new List<string>();
        if (input[0] != images[0] && input[0] is 1 or 3)
        {
            remedies.Add(input[0] == 3 ? "set preprocessing.color to \"rgb\" (a grey image's channel repeated 3 times)" : "set preprocessing.color to \"grayscale\"");
        }
        if (input[1] != images[1] || input[2] != images[2])
        {
            remedies.Add(preprocessing.CenterCrop is null
                ? $"set preprocessing.resize to [{input[1]}, {input[2]}]"
                : $"set preprocessing.resize and centerCrop to give {input[1]} x {input[2]} images");
        }
        if (labels && model.NumClasses != dataset.Classes)
        {
            remedies.Add(JobDataset.GenericTaskRemedy);
        }
        return $"The ONNX model takes [{string.Join(", ", input)}] images{(labels ? $" and gives {model.NumClasses} classes" : "")}; " +
               $"dataset '{dataset.Name}' gives [{string.Join(", ", images)}] images after preprocessing{(labels ? $" and has {dataset.Classes} classes" : "")}." +
               (remedies.Count > 0 ? " To fit them, " + string.Join("; ", remedies) + "." : "");
    }
}
