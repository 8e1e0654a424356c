using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using ModelOpt.Api.Application.Catalog;
using ModelOpt.Api.Application.Checkpoints;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Infrastructure.OpenApi;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Api.Endpoints;

public sealed record CheckpointServices(
    ModelOptDbContext Db, ArtifactStore Store, IOptions<UploadOptions> Uploads, TimeProvider Time,
    ILogger<CheckpointServices> Logger);

public static class CheckpointEndpoints
{
    public static RouteGroupBuilder MapCheckpointEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("api/checkpoints").WithTags("Checkpoints");

        group.MapPost("", UploadCheckpointAsync)
            .WithName("UploadCheckpoint")
            .AcceptsIdempotencyKey()
            .WithSummary("Upload an FP32 checkpoint (torch.save, safetensors, TorchSharp or ONNX)")
            .WithDescription("multipart/form-data with one part named 'file' and, optionally, a 'model' field naming a zoo model to check "
                             + "the checkpoint's keys and shapes against. The file is streamed to the artifact store, never held in memory; "
                             + "its SHA-256 is recorded. Its format is read from its content, and the engine's checkpoint reader checks it "
                             + "whole (pickle globals, every tensor's storage) with or without a model. An .onnx file carries its own "
                             + "architecture: it is imported at upload (ops ModelOpt does not map: 422 listing them) and its model is "
                             + "onnx:<file name>. With an Idempotency-Key header, a "
                             + "retry answers the checkpoint the first request stored.")
            .AcceptsMultipartForm(
                new MultipartFormField("file", "The FP32 checkpoint: a .pth as torch.save writes it (a state_dict, or a dict holding "
                                               + "model_state_dict), a .safetensors file or TorchSharp's format, told apart by content; or an FP32 .onnx model "
                                               + "as torch.onnx.export writes it.",
                    IsFile: true, Required: true),
                new MultipartFormField("model", "A model name from GET /api/models (e.g. resnet20): the upload is refused unless the "
                                                + "checkpoint's keys and shapes fit it. Optional; leave it out for an .onnx file."))
            .DisableAntiforgery()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .ProducesProblem(StatusCodes.Status422UnprocessableEntity);
        group.MapGet("", ListCheckpointsPageAsync)
            .WithName("ListCheckpoints")
            .WithSummary("List uploaded checkpoints, newest first");
        group.MapGet("{id:guid}", GetCheckpointAsync)
            .WithName("GetCheckpoint")
            .WithSummary("One checkpoint's metadata")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapGet("{id:guid}/content", DownloadCheckpointAsync)
            .WithName("DownloadCheckpoint")
            .WithSummary("Download the checkpoint file (ETag = SHA-256, range requests)")
            .ProducesFile()
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("{id:guid}", DeleteCheckpointAsync)
            .WithName("DeleteCheckpoint")
            .WithSummary("Delete a checkpoint; refused (409) while a queued or running job uses it")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    public static async Task<Created<CheckpointDto>> UploadCheckpointAsync(
        HttpRequest request, [AsParameters] CheckpointServices services, CancellationToken cancellationToken)
    {
        var idempotencyKey = IdempotencyKey.Of(request.HttpContext);
        using var upload = await MultipartUpload.ReadAsync(request, services.Store, services.Uploads.Value.MaxBytes, $"{UploadOptions.Section}:MaxBytes", "checkpoint", ["model"], cancellationToken);
        var (temp, fileName) = (upload.File, upload.FileName);
        var model = upload.Fields.GetValueOrDefault("model");
        if (idempotencyKey is not null && await FindByIdempotencyKeyAsync(services.Db, idempotencyKey, cancellationToken) is { } earlier)
        {
            // The same key with another file or model is another request (IETF Idempotency-Key draft: 422).
            if (earlier.Sha256 != temp.Sha256 || (model is not null && model != earlier.Model))
            {
                throw new IdempotencyKeyMismatchException(
                    $"The {IdempotencyKey.Header} was first used to upload checkpoint {earlier.Id} ({earlier.FileName}, SHA-256 {earlier.Sha256}); "
                    + "this request sends another file or model. Send a new key for a new upload.");
            }
            return Created(earlier);
        }
        CheckpointFormat format;
        long? channels = null, height = null, width = null, classes = null;
        if (fileName.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (model is not null)
            {
                throw new RequestValidationException("model", "An ONNX file carries its own architecture: leave 'model' out.");
            }
            // The importer a job will use reads the whole graph: an op it cannot map is refused now, not in a job.
            var onnx = OnnxCheckpointInspector.Inspect(temp.Path, fileName);
            (model, format, classes) = (onnx.Model, CheckpointFormat.Onnx, onnx.NumClasses);
            (channels, height, width) = (onnx.Channels, onnx.Height, onnx.Width);
        }
        else
        {
            if (model is not null && !ModelCatalog.IsKnown(model))
            {
                throw new RequestValidationException("model", ModelCatalog.UnknownModelReason(model));
            }
            // The worker's reader, on the layout alone: every rule about a checkpoint lives in the engine, once.
            var layout = CheckpointReader.ReadLayout(temp.Path, fileName);
            // Without a model the layout may be one the zoo cannot size; the job then fails with the reader's reason.
            var inferred = model is not null ? layout.InferDimensions() : TryInferDimensions(layout);
            if (model is not null)
            {
                CheckpointValidator.Validate(layout, model, inferred!.InputChannels, inferred.NumClasses);
            }
            format = layout.Format!.Value;
            if (inferred is not null)
            {
                (channels, classes) = (inferred.InputChannels, inferred.NumClasses);
            }
        }

        var checkpoint = new Checkpoint
        {
            Id = Guid.CreateVersion7(),
            FileName = fileName,
            Format = format,
            Model = model,
            SizeBytes = temp.SizeBytes,
            InputChannels = (int?)channels,
            InputHeight = (int?)height,
            InputWidth = (int?)width,
            NumClasses = (int?)classes,
            Sha256 = temp.Sha256,
            RelativePath = "",
            CreatedAt = services.Time.GetUtcNow().UtcDateTime,
            IdempotencyKey = idempotencyKey,
        };
        checkpoint.RelativePath = ArtifactStore.CheckpointPath(checkpoint.Id, fileName);
        var concurrent = await upload.KeepAsync<CheckpointDto>(services.Store, checkpoint.RelativePath, async () =>
            {
                services.Db.Checkpoints.Add(checkpoint);
                await services.Db.SaveChangesAsync(CancellationToken.None);
            },
            idempotencyKey is null ? null : () => FindByIdempotencyKeyAsync(services.Db, idempotencyKey, CancellationToken.None));
        if (concurrent is not null)
        {
            return Created(concurrent);
        }
        services.Logger.LogInformation("Checkpoint {CheckpointId} stored: {FileName}, {SizeBytes} bytes, SHA-256 {Sha256}",
            checkpoint.Id, fileName, checkpoint.SizeBytes, checkpoint.Sha256);
        return Created(CheckpointQueries.ToDto(checkpoint));
    }

    public static async Task<Ok<PagedResult<CheckpointDto>>> ListCheckpointsPageAsync(
        [FromServices] CheckpointQueries checkpoints, CancellationToken cancellationToken,
        [Description(Paging.PageDescription)] int page = 1, [Description(Paging.PageSizeDescription)] int pageSize = Paging.DefaultPageSize) =>
        TypedResults.Ok(await checkpoints.ListAsync(page, pageSize, cancellationToken));

    public static async Task<Ok<CheckpointDto>> GetCheckpointAsync(Guid id, [FromServices] CheckpointQueries checkpoints, CancellationToken cancellationToken) =>
        TypedResults.Ok(await checkpoints.GetAsync(id, cancellationToken));

    public static async Task<PhysicalFileHttpResult> DownloadCheckpointAsync(Guid id, [AsParameters] CheckpointServices services, CancellationToken cancellationToken)
    {
        var checkpoint = await CheckpointQueries.LoadAsync(services.Db, id, cancellationToken);
        var path = services.Store.FullPath(checkpoint.RelativePath);
        if (!File.Exists(path))
        {
            throw new NotFoundException($"The file of checkpoint {id} is missing from the artifact store.");
        }
        return TypedResults.PhysicalFile(path, "application/octet-stream", checkpoint.FileName, File.GetLastWriteTimeUtc(path),
            new EntityTagHeaderValue($"\"{checkpoint.Sha256}\""), enableRangeProcessing: true);
    }

    public static async Task<NoContent> DeleteCheckpointAsync(Guid id, [AsParameters] CheckpointServices services, CancellationToken cancellationToken)
    {
        var checkpoint = await CheckpointQueries.LoadAsync(services.Db, id, cancellationToken);
        // Every team's jobs: one an admin moved to another team may still use it.
        await ActiveJobs.RefuseWhileUsedAsync(services.Db.Jobs.IgnoreQueryFilters([ModelOptDbContext.TeamFilter]).Where(j => j.CheckpointId == id), $"Checkpoint {id}", cancellationToken);
        await services.Db.Checkpoints.Where(c => c.Id == id).ExecuteDeleteAsync(cancellationToken);
        services.Store.Delete(checkpoint.RelativePath);
        return TypedResults.NoContent();
    }

    private static async Task<CheckpointDto?> FindByIdempotencyKeyAsync(ModelOptDbContext db, string idempotencyKey, CancellationToken cancellationToken) =>
        await db.Checkpoints.AsNoTracking().SingleOrDefaultAsync(c => c.IdempotencyKey == idempotencyKey, cancellationToken) is { } checkpoint
            ? CheckpointQueries.ToDto(checkpoint)
            : null;

    private static Created<CheckpointDto> Created(CheckpointDto checkpoint) => TypedResults.Created($"/api/checkpoints/{checkpoint.Id}", checkpoint);

    private static ModelDimensions? TryInferDimensions(CheckpointLayout layout)
    {
        try
        {
            return layout.InferDimensions();
        }
        catch (CheckpointFormatException)
        {
            return null;
        }
    }
}
