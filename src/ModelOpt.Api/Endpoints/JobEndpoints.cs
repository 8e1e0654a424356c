using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using ModelOpt.Api.Application.Jobs;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Infrastructure.Json;
using ModelOpt.Api.Infrastructure.OpenApi;
using ModelOpt.Api.Presentation;

namespace ModelOpt.Api.Endpoints;

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
        CreateJobRequest request, HttpContext httpContext, [FromServices] SubmitJobHandler submit, CancellationToken cancellationToken) =>
        Accepted(await submit.HandleAsync(request, IdempotencyKey.Of(httpContext), cancellationToken));

    public static async Task<Ok<PagedResult<JobSummaryDto>>> ListJobsByQueryAsync(
        [FromServices] JobQueries jobs,
        [FromQuery, EnumList(typeof(JobStatus)), Description("Only jobs with one of these statuses: comma-separated or repeated, any case.")] string[]? status,
        CancellationToken cancellationToken,
        [Description(Paging.PageDescription)] int page = 1,
        [Description(Paging.PageSizeDescription)] int pageSize = Paging.DefaultPageSize,
        [Description("Only jobs of this model (as the job names it, e.g. resnet20).")] string? model = null,
        [Description("Only jobs on this dataset (its name).")] string? dataset = null,
        [Description("Only jobs for this device (cpu, cuda).")] string? device = null) =>
        TypedResults.Ok(await jobs.ListAsync(new JobListQuery(EnumNames.ParseList<JobStatus>("status", status), page, pageSize, model, dataset, device), cancellationToken));

    public static async Task<Ok<JobDto>> GetJobAsync(Guid id, [FromServices] JobQueries jobs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await jobs.GetAsync(id, cancellationToken));

    public static async Task<Accepted<JobDto>> CancelJobAsync(Guid id, [FromServices] JobCommands commands, CancellationToken cancellationToken) =>
        Accepted(await commands.CancelAsync(id, cancellationToken));

    public static async Task<Accepted<JobDto>> RetryJobAsync(Guid id, [FromServices] JobCommands commands, CancellationToken cancellationToken) =>
        Accepted(await commands.RetryAsync(id, cancellationToken));

    public static async Task<ContentHttpResult> GetReportAsync(
        Guid id, HttpRequest request, [FromServices] JobQueries jobs, CancellationToken cancellationToken)
    {
        var job = await jobs.GetAsync(id, cancellationToken);
        // Markdown is text: a client that accepts only text/plain (as generated clients ask) gets the same body labelled so.
        var accept = request.GetTypedHeaders().Accept;
        var plainOnly = accept.Count > 0 && accept.All(a => a.MediaType.Equals("text/plain", StringComparison.OrdinalIgnoreCase));
        return TypedResults.Text(JobReportWriter.Write(job), plainOnly ? PlainTextContentType : ReportContentType);
    }

    public static async Task<Ok<PagedResult<ArtifactDto>>> ListArtifactsAsync(
        Guid id, [FromServices] JobQueries jobs, CancellationToken cancellationToken,
        [Description(Paging.PageDescription)] int page = 1, [Description(Paging.PageSizeDescription)] int pageSize = Paging.DefaultPageSize) =>
        TypedResults.Ok(await jobs.ListArtifactsAsync(id, page, pageSize, cancellationToken));

    public static async Task<Ok<IReadOnlyList<JobLayerDto>>> ListLayersAsync(Guid id, [FromServices] JobQueries jobs, CancellationToken cancellationToken) =>
        TypedResults.Ok(await jobs.ListLayersAsync(id, cancellationToken));

    public static async Task<PhysicalFileHttpResult> DownloadArtifactAsync(
        Guid id, [Description("Artifact name from GET /api/jobs/{id}/artifacts.")] string name, [FromServices] JobQueries jobs,
        CancellationToken cancellationToken)
    {
        var file = await jobs.GetArtifactFileAsync(id, name, cancellationToken);
        return TypedResults.PhysicalFile(file.Path, file.ContentType, file.FileName, File.GetLastWriteTimeUtc(file.Path),
            new Microsoft.Net.Http.Headers.EntityTagHeaderValue($"\"{file.Sha256}\""), enableRangeProcessing: true);
    }

    private static Accepted<JobDto> Accepted(JobDto job) => TypedResults.Accepted($"/api/jobs/{job.Id}", job);
}
