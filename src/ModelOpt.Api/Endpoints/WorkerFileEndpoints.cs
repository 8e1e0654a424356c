using System.ComponentModel;
using Microsoft.AspNetCore.Http.Features;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Infrastructure.OpenApi;
using ModelOpt.Api.Security;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Api.Endpoints;

/// <summary>
/// The artifact store for workers that do not mount it (ModelOpt:Worker:Artifacts = Api): they download checkpoints,
/// uploaded datasets and completed stages' artifacts, and upload each stage's artifacts. Worker keys only.
/// </summary>
public static class WorkerFileEndpoints
{
    private static readonly string[] Readable = ["checkpoints/", "datasets/", "jobs/"];

    public static RouteGroupBuilder MapWorkerFileEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup(ApiArtifactTransfer.FilesRoute).WithTags("Workers")
            .RequireAuthorization(ApiKeyDefaults.Policy(ApiKeyScope.Worker)).WithMetadata(AllTeamsEndpoint.Instance);
        group.MapGet("{**path}", Download)
            .WithName("DownloadWorkerFile")
            .WithSummary("A stored file, for a worker: a checkpoint, an uploaded dataset or a job's artifact")
            .WithDescription("The path is the one the database records (checkpoints/…, datasets/…, jobs/{id}/artifacts/…). Streamed, with range requests; "
                             + "the worker checks its SHA-256 against the database.")
            .ProducesFile()
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapPut("{**path}", UploadAsync)
            .WithName("UploadWorkerFile")
            .WithSummary("Store a stage's artifact, for a worker")
            .WithDescription("Only under jobs/{id}/artifacts/{stage}/, for a running job whose claim the request's ModelOpt-Execution-Id names, "
                             + "for a stage not yet completed, and never over a recorded artifact (404 for an unknown job, 409 otherwise). "
                             + "The body is the file (application/octet-stream), streamed to a temporary file and hashed; it is stored only when its "
                             + "SHA-256 equals the request's Content-Digest (RFC 9530, sha-256=:BASE64:), else 422. Answers 201 with the stored path, "
                             + "length and SHA-256; a file an unfinished attempt of the stage left at the same path is replaced.")
            .WithMetadata(new RawBodyMetadata("application/octet-stream", "The artifact's bytes."))
            .WithMetadata(new RequestHeaderMetadata(ContentDigest.Header, "The body's SHA-256 (RFC 9530): sha-256=:BASE64:, among other members if any.",
                Required: true))
            .WithMetadata(new RequestHeaderMetadata(ExecutionIdHeader.Name, "The execution id of the claim the worker holds on the job.", Required: true))
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        return group;
    }

    public static PhysicalFileHttpResult Download([Description("Relative path in the artifact store.")] string path, ArtifactStore store)
    {
        if (!Readable.Any(p => path.StartsWith(p, StringComparison.Ordinal)) || !TryFullPath(store, path, out var full) || !File.Exists(full))
        {
            throw new NotFoundException($"The artifact store has no file '{path}'.");
        }
        return TypedResults.PhysicalFile(full, "application/octet-stream", enableRangeProcessing: true);
    }

    public static async Task<Created<StoredFile>> UploadAsync(
        [Description("jobs/{id}/artifacts/{stage}/{name}")] string path, HttpRequest request, ArtifactStore store, ModelOptDbContext db,
        CancellationToken cancellationToken)
    {
        var segments = path.Split('/');
        if (segments is not ["jobs", var job, "artifacts", var stageName, _, ..] || !Guid.TryParseExact(job, "N", out var jobId)
            || !Enum.TryParse<PipelineStage>(stageName, ignoreCase: false, out var stage) || !TryFullPath(store, path, out _))
        {
            throw new RequestValidationException("path", "A worker stores only a job's artifacts: jobs/{id}/artifacts/{stage}/{name}.");
        }
        var expected = ContentDigest.ParseSha256(request.Headers[ContentDigest.Header])
                       ?? throw new RequestValidationException(ContentDigest.Header, "Send the file's SHA-256 as 'Content-Digest: sha-256=:BASE64:'.");
        if (!Guid.TryParse(request.Headers[ExecutionIdHeader.Name], out var executionId))
        {
            throw new RequestValidationException(ExecutionIdHeader.Name, $"Send the run's claim on the job as '{ExecutionIdHeader.Name}: <execution id>'.");
        }
        await CheckWritableAsync(db, jobId, stage, executionId, path, cancellationToken);
        // A stage's artifact (an FP32 model, an ONNX export) may exceed the checkpoint upload limit; only worker keys get here.
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = null;
        }
        using var temp = await store.WriteTempAsync(request.Body, maxBytes: null, cancellationToken);
        if (temp.Sha256 != expected)
        {
            throw new DigestMismatchException(
                $"The body's SHA-256 is {temp.Sha256} ({temp.SizeBytes} bytes) but its Content-Digest says {expected}: nothing was stored.");
        }
        var stored = temp.MoveTo(path);
        return TypedResults.Created($"/{ApiArtifactTransfer.FilesRoute}/{path}", stored);
    }

    /// <summary>
    /// A worker writes only for the run it holds the claim of, only while that run is going, and only what no completed
    /// stage has recorded: a finished job's files, and the SHA-256 the database keeps for them, never change.
    /// </summary>
    private static async Task CheckWritableAsync(
        ModelOptDbContext db, Guid jobId, PipelineStage stage, Guid executionId, string path, CancellationToken cancellationToken)
    {
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId)
                      .Select(j => new { j.Status, j.ExecutionId })
                      .SingleOrDefaultAsync(cancellationToken)
                  ?? throw new NotFoundException($"Job {jobId} does not exist; nothing was stored.");
        if (job.Status != JobStatus.Running || job.ExecutionId != executionId)
        {
            throw new ConflictException(job.Status == JobStatus.Running
                ? $"Job {jobId} is run by another claim than {executionId}; nothing was stored."
                : $"Job {jobId} is {job.Status}, not running; its artifacts no longer change.");
        }
        if (await db.JobStages.AnyAsync(s => s.JobId == jobId && s.Stage == stage, cancellationToken)
            || await db.JobArtifacts.AnyAsync(a => a.RelativePath == path, cancellationToken))
        {
            throw new ConflictException($"Stage {stage} of job {jobId} is complete and its artifacts are recorded; nothing was stored.");
        }
    }

    private static bool TryFullPath(ArtifactStore store, string path, out string full)
    {
        try
        {
            full = store.FullPath(path);
            return true;
        }
        catch (ArgumentException)
        {
            full = "";
            return false;
        }
    }
}
