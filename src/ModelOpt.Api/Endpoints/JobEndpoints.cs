using System.ComponentModel;
using System.Text.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Infrastructure.Json;
using ModelOpt.Api.Infrastructure.OpenApi;
using ModelOpt.Api.Presentation;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Catalog;
using ModelOpt.Jobs.Dispatch;
using ModelOpt.Jobs.Execution;
using ModelOpt.Jobs.Lifecycle;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Options;
using ModelOpt.Jobs.Workers;

namespace ModelOpt.Api.Endpoints;

/// <summary>What the job handlers need, bound with [AsParameters].</summary>
public sealed record JobServices(
    ModelOptDbContext Db, JobStateMachine States, JobDispatcher Dispatcher, DispatchSignal Dispatch, DatasetLocations Datasets, ArtifactStore Store, TimeProvider Time,
    WorkerRegistry Workers, IOptions<JobsOptions> Options);

public static class JobEndpoints
{
    private const string ReportContentType = "text/markdown; charset=utf-8";
    private const string PlainTextContentType = "text/plain; charset=utf-8";

    public static RouteGroupBuilder MapJobEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("api/jobs").WithTags("Jobs");

        group.MapPost("", CreateJobAsync)
            .WithName("CreateJob")
            .AcceptsIdempotencyKey()
            .WithSummary("Submit an optimization job")
            .WithDescription("Queues a job for a worker of the given device: train (only without a checkpoint), evaluate FP32, calibrate, "
                             + "convert to int8 (and evaluate), compile (and evaluate). Answers 202 with the job; poll GET /api/jobs/{id}. "
                             + "With an Idempotency-Key header, a retry answers the job the first request created. "
                             + "When no live worker serves the device, the job is still accepted and waits (its warnings field says so, "
                             + "its progressMessage names the device), unless ModelOpt:Jobs:WithoutWorker is Refuse: then 409. "
                             + "A checkpointId or uploaded dataset id that does not exist, or is another team's, is a 404 naming it.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("", ListJobsByQueryAsync)
            .WithName("ListJobs")
            .WithSummary("List jobs, newest first")
            .WithDescription("Paged; filter by one or several statuses (status=Succeeded,Failed), and by model, dataset and device.")
            .ProducesValidationProblem();
        group.MapGet("{id:guid}", GetJobAsync)
            .WithName("GetJob")
            .WithSummary("A job's status, current stage, progress, timings, error and every stage result")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPost("{id:guid}/cancel", CancelJobAsync)
            .WithName("CancelJob")
            .WithSummary("Cancel a queued or running job")
            .WithDescription("A queued job is cancelled at once; a running job is flagged and its worker stops inside the current stage.")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapPost("{id:guid}/retry", RetryJobAsync)
            .WithName("RetryJob")
            .WithSummary("Resume a failed or cancelled job from its last completed stage")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        group.MapGet("{id:guid}/report", GetReportAsync)
            .WithName("GetJobReport")
            .WithSummary("The job's results as a Markdown report (the job page's tables, settings and artifacts)")
            .Produces<string>(StatusCodes.Status200OK, "text/markdown", "text/plain")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("{id:guid}/layers", ListLayersAsync)
            .WithName("ListJobLayers")
            .WithSummary("The per-layer sensitivity report, most sensitive first")
            .WithDescription("For every int8 conv / linear layer, measured at conversion (on the fine-tuned model after QAT): SQNR (dB) and MSE of its own output against FP32 "
                             + "on the calibration images, its FP32 output range and output qparams, and, with quantization.sensitivityImages, "
                             + "the top-1 gain in points of leaving only it in FP32. Sorted by that gain, then by SQNR; empty until convert completes.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("{id:guid}/artifacts", ListArtifactsAsync)
            .WithName("ListJobArtifacts")
            .WithSummary("Files the job produced so far")
            .WithDescription("int8 checkpoint, manifest, compiled model, ONNX model, and the FP32 checkpoint when the job trained.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("{id:guid}/artifacts/{name}", DownloadArtifactAsync)
            .WithName("DownloadJobArtifact")
            .WithSummary("Download one artifact")
            .WithDescription("Content-Length, a strong ETag that is the file's SHA-256, and range requests (Accept-Ranges: bytes).")
            .ProducesFile()
            .ProducesProblem(StatusCodes.Status404NotFound);
        return group;
    }

    public static async Task<Accepted<JobDto>> CreateJobAsync(
        CreateJobRequest request, HttpContext httpContext, [AsParameters] JobServices services, CancellationToken cancellationToken)
    {
        var idempotencyKey = IdempotencyKey.Of(httpContext);
        request.Training ??= new();
        request.Quantization ??= new();
        request.Evaluation ??= new();
        request.Compile ??= new();
        request.Preprocessing ??= new();
        request.Split ??= new();
        request.Output ??= new();
        request.Qat ??= new();
        RequestValidator.NormalizeChoices(request);
        if (idempotencyKey is not null && await FindByIdempotencyKeyAsync(services, idempotencyKey, request, cancellationToken) is { } earlier)
        {
            return earlier;
        }
        var errors = RequestValidator.Validate(request);
        var dataset = request.Dataset is { } named ? await JobDataset.ResolveAsync(named, services.Db, services.Datasets, errors, cancellationToken) : null;
        if (dataset?.Uploaded is not null && !string.IsNullOrWhiteSpace(request.DataPath))
        {
            errors["dataPath"] = ["An uploaded dataset is read from the artifact store: leave dataPath empty."];
        }
        else if (!string.IsNullOrWhiteSpace(request.DataPath) && services.Datasets.RefusedDataPath(request.DataPath) is { } refused)
        {
            errors["dataPath"] = [refused];
        }
        Checkpoint? checkpoint = null;
        if (request.CheckpointId is { } checkpointId)
        {
            // Another team's checkpoint is not found either (ADR-024).
            checkpoint = await services.Db.Checkpoints.AsNoTracking().SingleOrDefaultAsync(c => c.Id == checkpointId, cancellationToken)
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
            dataset!.Check(preprocessing, onnx ? null : checkpoint, trains: checkpoint is null, errors);
            var onnxModel = onnx && errors.Count == 0 ? OnnxModelFor(checkpoint!, dataset, preprocessing, request.Output.Name, services.Store) : null;
            if (onnxModel is not null && OnnxInputMismatch(onnxModel, dataset, preprocessing) is { } mismatch)
            {
                errors["dataset"] = [mismatch];
            }
            // A classification job measures one output (ADR-023): a model with several needs the logits named.
            // The file is read here only when the size check above did not read it.
            if (onnxModel is not null && errors.Count == 0 && request.Output is { Task: JobTask.Classification, Name: null }
                && (onnxModel.OutputNames ?? OnnxCheckpointInspector.OutputNames(services.Store.FullPath(checkpoint!.RelativePath), checkpoint.FileName)) is { Count: > 1 } outputs)
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
        IReadOnlyList<string> warnings = await services.Workers.WarningsForQueuedAsync(request.Device, queue, cancellationToken);
        if (warnings.Count > 0 && services.Options.Value.WithoutWorker == JobsWithoutWorker.Refuse)
        {
            throw new ConflictException(
                $"No live worker serves device '{request.Device}' (queue '{queue}'), and this service refuses such jobs (ModelOpt:Jobs:WithoutWorker = Refuse). "
                + "Start a worker for that device, or submit for a device GET /api/workers lists.");
        }
        var now = services.Time.GetUtcNow().UtcDateTime;
        var job = services.States.Submit(new OptimizationJob
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
        services.Db.Jobs.Add(job);
        try
        {
            await services.Db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException) when (idempotencyKey is not null)
        {
            // A concurrent retry with the same key inserted first: answer with its job.
            services.Db.ChangeTracker.Clear();
            if (await FindByIdempotencyKeyAsync(services, idempotencyKey, request, cancellationToken) is { } concurrent)
            {
                return concurrent;
            }
            throw;
        }
        // The row is the outbox entry: the relay hands it to Hangfire, so the request waits for no queue.
        services.Dispatch.Notify();
        return TypedResults.Accepted($"/api/jobs/{job.Id}", job.ToDto(now, warnings));
    }

    public static Task<Ok<PagedResult<JobSummaryDto>>> ListJobsByQueryAsync(
        [AsParameters] JobServices services,
        [FromQuery, EnumList(typeof(JobStatus)), Description("Only jobs with one of these statuses: comma-separated or repeated, any case.")] string[]? status,
        CancellationToken cancellationToken,
        [Description(Paging.PageDescription)] int page = 1,
        [Description(Paging.PageSizeDescription)] int pageSize = Paging.DefaultPageSize,
        [Description("Only jobs of this model (as the job names it, e.g. resnet20).")] string? model = null,
        [Description("Only jobs on this dataset (its name).")] string? dataset = null,
        [Description("Only jobs for this device (cpu, cuda).")] string? device = null) =>
        QueryJobsAsync(services, EnumNames.ParseList<JobStatus>("status", status), page, pageSize, model, dataset, device, cancellationToken);

    public static Task<Ok<PagedResult<JobSummaryDto>>> ListJobsAsync(
        JobServices services, JobStatus? status, CancellationToken cancellationToken, int page = 1, int pageSize = Paging.DefaultPageSize,
        string? model = null, string? dataset = null, string? device = null) =>
        QueryJobsAsync(services, status is { } s ? [s] : [], page, pageSize, model, dataset, device, cancellationToken);

    private static async Task<Ok<PagedResult<JobSummaryDto>>> QueryJobsAsync(
        JobServices services, IReadOnlyList<JobStatus> statuses, int page, int pageSize, string? model, string? dataset, string? device,
        CancellationToken cancellationToken)
    {
        Paging.Check(page, pageSize);
        var query = services.Db.Jobs.AsNoTracking().Include(j => j.Results).AsSplitQuery();
        if (statuses.Count > 0)
        {
            query = query.Where(j => statuses.Contains(j.Status));
        }
        if (!string.IsNullOrEmpty(model))
        {
            query = query.Where(j => j.Model == model);
        }
        if (!string.IsNullOrEmpty(dataset))
        {
            query = query.Where(j => j.Dataset == dataset);
        }
        if (!string.IsNullOrEmpty(device))
        {
            query = query.Where(j => j.Device == device);
        }
        var total = await query.CountAsync(cancellationToken);
        var jobs = await query.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id)
            .Skip((page - 1) * pageSize).Take(pageSize).ToListAsync(cancellationToken);
        return TypedResults.Ok(new PagedResult<JobSummaryDto>(jobs.Select(j => j.ToSummary()).ToList(), page, pageSize, total));
    }

    public static async Task<Ok<JobDto>> GetJobAsync(Guid id, [AsParameters] JobServices services, CancellationToken cancellationToken)
    {
        var job = await LoadAsync(services.Db, id, cancellationToken);
        var warnings = job.Status == JobStatus.Queued ? await services.Workers.WarningsForQueuedAsync(job.Device, job.Queue, cancellationToken) : null;
        return TypedResults.Ok(job.ToDto(services.Time.GetUtcNow().UtcDateTime, warnings));
    }

    public static async Task<Accepted<JobDto>> CancelJobAsync(Guid id, [AsParameters] JobServices services, CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow().UtcDateTime;
        var job = await LoadAsync(services.Db, id, cancellationToken);
        if (job.Status.IsFinished())
        {
            throw new ConflictException($"Job {id} is already {job.Status}.");
        }
        // Conditional updates: the worker may claim the job between our read and our write.
        if (await services.States.CancelQueuedAsync(id, "Cancelled on request before it started.", cancellationToken))
        {
            services.Dispatcher.TryDelete(job.HangfireJobId);
        }
        else
        {
            await services.States.RequestCancelAsync(id, cancellationToken);
        }
        services.Db.ChangeTracker.Clear();
        job = await LoadAsync(services.Db, id, cancellationToken);
        return TypedResults.Accepted($"/api/jobs/{id}", job.ToDto(now));
    }

    public static async Task<Accepted<JobDto>> RetryJobAsync(Guid id, [AsParameters] JobServices services, CancellationToken cancellationToken)
    {
        var now = services.Time.GetUtcNow().UtcDateTime;
        var job = await LoadAsync(services.Db, id, cancellationToken);
        if (job.Status is not (JobStatus.Failed or JobStatus.Cancelled))
        {
            throw new ConflictException($"Only failed or cancelled jobs can be retried; job {id} is {job.Status}.");
        }
        if (!job.TrainFirst && job.CheckpointId is null)
        {
            throw new ConflictException($"Job {id} started from a checkpoint that has since been deleted.");
        }
        if (!await services.States.RetryAsync(id, job.Stages.Count, cancellationToken))
        {
            throw new ConflictException($"Job {id} changed state meanwhile; try again.");
        }
        services.Dispatch.Notify();
        services.Db.ChangeTracker.Clear();
        job = await LoadAsync(services.Db, id, cancellationToken);
        return TypedResults.Accepted($"/api/jobs/{id}", job.ToDto(now));
    }

    public static async Task<ContentHttpResult> GetReportAsync(
        Guid id, HttpRequest request, [AsParameters] JobServices services, CancellationToken cancellationToken)
    {
        var job = (await GetJobAsync(id, services, cancellationToken)).Value!;
        // Markdown is text: a client that accepts only text/plain (as generated clients ask) gets the same body labelled so.
        var accept = request.GetTypedHeaders().Accept;
        var plainOnly = accept.Count > 0 && accept.All(a => a.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase));
        return TypedResults.Text(JobReportWriter.Write(job), plainOnly ? PlainTextContentType : ReportContentType);
    }

    public static async Task<Ok<PagedResult<ArtifactDto>>> ListArtifactsAsync(
        Guid id, [AsParameters] JobServices services, CancellationToken cancellationToken,
        [Description(Paging.PageDescription)] int page = 1, [Description(Paging.PageSizeDescription)] int pageSize = Paging.DefaultPageSize)
    {
        Paging.Check(page, pageSize);
        var job = await LoadAsync(services.Db, id, cancellationToken);
        return TypedResults.Ok(Paging.Of(job.ArtifactDtos(), page, pageSize));
    }

    public static async Task<Ok<IReadOnlyList<JobLayerDto>>> ListLayersAsync(Guid id, [AsParameters] JobServices services, CancellationToken cancellationToken)
    {
        if (!await services.Db.Jobs.AnyAsync(j => j.Id == id, cancellationToken))
        {
            throw new NotFoundException($"Job {id} does not exist.");
        }
        IReadOnlyList<JobLayerDto> layers = await services.Db.JobLayers.AsNoTracking()
            .Where(l => l.JobId == id)
            .OrderBy(l => l.Rank)
            .Select(l => new JobLayerDto(
                l.Rank, l.Layer, l.Kind, l.SqnrDb, l.Mse, l.ActivationMin, l.ActivationMax, l.OutputScale, l.OutputZeroPoint, l.AccuracyGainWhenFloat))
            .ToListAsync(cancellationToken);
        return TypedResults.Ok(layers);
    }

    public static async Task<PhysicalFileHttpResult> DownloadArtifactAsync(
        Guid id, [Description("Artifact name from GET /api/jobs/{id}/artifacts.")] string name, [AsParameters] JobServices services,
        CancellationToken cancellationToken)
    {
        var artifact = await services.Db.JobArtifacts.AsNoTracking().SingleOrDefaultAsync(a => a.JobId == id && a.Name == name, cancellationToken)
                       ?? throw new NotFoundException($"Job {id} has no artifact '{name}'.");
        var path = services.Store.FullPath(artifact.RelativePath);
        if (!File.Exists(path))
        {
            throw new NotFoundException($"The file of artifact '{name}' is missing from the artifact store.");
        }
        return TypedResults.PhysicalFile(path, artifact.ContentType, artifact.Name, File.GetLastWriteTimeUtc(path),
            new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{artifact.Sha256}\""), enableRangeProcessing: true);
    }

    /// <summary>The job an earlier request with this key created, if it asked for the same job; null when the key is new.</summary>
    /// <exception cref="IdempotencyKeyMismatchException">The earlier request asked for another job.</exception>
    private static async Task<Accepted<JobDto>?> FindByIdempotencyKeyAsync(
        JobServices services, string idempotencyKey, CreateJobRequest request, CancellationToken cancellationToken)
    {
        var id = await services.Db.Jobs.Where(j => j.IdempotencyKey == idempotencyKey).Select(j => (Guid?)j.Id).SingleOrDefaultAsync(cancellationToken);
        if (id is null)
        {
            return null;
        }
        var job = await LoadAsync(services.Db, id.Value, cancellationToken);
        if (!AsksFor(request, job))
        {
            throw new IdempotencyKeyMismatchException(
                $"The {IdempotencyKey.Header} was first used for job {job.Id}, whose request differs from this one. Send a new key for a new job.");
        }
        return TypedResults.Accepted($"/api/jobs/{job.Id}", job.ToDto(services.Time.GetUtcNow().UtcDateTime));
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
    private static OnnxCheckpointInspector.Summary OnnxModelFor(
        Checkpoint checkpoint, JobDataset dataset, Engine.Data.ImagePreprocessing preprocessing, string? outputName, ArtifactStore store)
    {
        if (checkpoint is { InputHeight: { } fixedHeight, InputWidth: { } fixedWidth } && outputName is null)
        {
            return new OnnxCheckpointInspector.Summary(checkpoint.Model!, checkpoint.InputChannels ?? 0, fixedHeight, fixedWidth,
                checkpoint.NumClasses is { } classes ? [classes] : null);
        }
        var (height, width) = preprocessing.OutputSize(dataset.ImageSize?.Height ?? 1, dataset.ImageSize?.Width ?? 1);
        return OnnxCheckpointInspector.InspectAt(store.FullPath(checkpoint.RelativePath), checkpoint.FileName, height, width, outputName);
    }

    /// <summary>Why the ONNX model cannot take the dataset's images (channels, size, classes unless the set is unlabeled); null when it can.</summary>
    private static string? OnnxInputMismatch(OnnxCheckpointInspector.Summary model, JobDataset dataset, Engine.Data.ImagePreprocessing preprocessing)
    {
        var (height, width) = preprocessing.OutputSize(dataset.ImageSize?.Height ?? 1, dataset.ImageSize?.Width ?? 1);
        long[] images = [preprocessing.OutputChannels(dataset.Channels), height, width];
        long[] input = [model.Channels, model.Height ?? height, model.Width ?? width];
        // An output that is not (N, C) logits, or an unlabeled set, has no classes to compare.
        return input.SequenceEqual(images) && (model.NumClasses is null || !dataset.Labeled || model.NumClasses == dataset.Classes)
            ? null
            : $"The ONNX model takes [{string.Join(", ", input)}] images{(model.NumClasses is { } classes ? $" and gives {classes} classes" : "")}; " +
              $"dataset '{dataset.Name}' gives [{string.Join(", ", images)}] images after preprocessing{(dataset.Labeled ? $" and has {dataset.Classes} classes" : "")}.";
    }

    /// <summary>
    /// The job with its stages, results and artifacts. Those rows are written only by a run, and the first claim sets
    /// <see cref="OptimizationJob.StartedAt"/>, so a job that never started is read in one query instead of four.
    /// </summary>
    private static async Task<OptimizationJob> LoadAsync(ModelOptDbContext db, Guid id, CancellationToken cancellationToken)
    {
        var job = await db.Jobs.AsNoTracking().SingleOrDefaultAsync(j => j.Id == id, cancellationToken)
            ?? throw new NotFoundException($"Job {id} does not exist.");
        if (job.StartedAt is null)
        {
            return job;
        }
        job.Stages = await db.JobStages.AsNoTracking().Where(s => s.JobId == id).ToListAsync(cancellationToken);
        job.Results = await db.StageResults.AsNoTracking().Where(r => r.JobId == id).ToListAsync(cancellationToken);
        job.Artifacts = await db.JobArtifacts.AsNoTracking().Where(a => a.JobId == id).ToListAsync(cancellationToken);
        return job;
    }
}
