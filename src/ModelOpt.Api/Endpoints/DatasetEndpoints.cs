using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;
using ModelOpt.Api.Application.Datasets;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Infrastructure.OpenApi;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Catalog;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Api.Endpoints;

public sealed record DatasetServices(
    ModelOptDbContext Db, ArtifactStore Store, DatasetLocations BuiltIn, IOptions<DatasetUploadOptions> Uploads, TimeProvider Time,
    ILogger<DatasetServices> Logger);

public static class DatasetEndpoints
{
    // A job records its dataset's name: an upload's name may be no longer than a job can hold.
    private const int MaxNameLength = OptimizationJob.MaxDatasetNameLength;

    public static RouteGroupBuilder MapDatasetEndpoints(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("api/datasets").WithTags("Datasets");

        group.MapPost("", UploadDatasetAsync)
            .WithName("UploadDataset")
            .AcceptsIdempotencyKey()
            .WithSummary("Upload a dataset: an ImageFolder .zip or a NumPy .npz")
            .WithDescription("multipart/form-data with one part named 'file' and, optionally, a 'name' field. The file is streamed to the "
                             + "artifact store with its SHA-256, then read whole once: every image decoded, every label checked. A zip holds "
                             + "train/<class>/*.png|jpg|jpeg|bmp and test/<class>/* (or val/), as torchvision's ImageFolder reads them, or "
                             + "class folders at its root (one set that each job splits by split.testFraction and split.seed). An .npz holds "
                             + "x_train, y_train, x_test, y_test (images uint8 0-255 or float32 0-1; NHW, NHWC or NCHW) and optionally "
                             + "class_names. Without labels (images without class folders: at the zip's root, in one folder, or directly in "
                             + "train/ and test/; or an .npz with only x_train and x_test) the dataset is unlabeled ('labeled': false, 0 classes): "
                             + "it serves jobs from a checkpoint that compare with the FP32 model; a split mixing images in and out of class "
                             + "folders is refused. A refused file leaves nothing stored; the answer names the entry or array at fault. With an "
                             + "Idempotency-Key header, a retry answers the dataset the first request stored.")
            .AcceptsMultipartForm(UploadLimit.Dataset,
                new MultipartFormField("file", "The dataset: an ImageFolder .zip (e.g. train/cat/001.png, test/cat/002.png) or an .npz from "
                                               + "np.savez(path, x_train=…, y_train=…, x_test=…, y_test=…).", IsFile: true, Required: true),
                new MultipartFormField("name", "The name lists and jobs show, e.g. my-fashion; the file name without its extension by default."))
            .DisableAntiforgery()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge);
        group.MapGet("", ListDatasetsPageAsync)
            .WithName("ListDatasets")
            .WithSummary("Built-in and uploaded datasets: classes, class names, images per split, image size, channels")
            .WithDescription("A job names a built-in dataset by name and an uploaded one by id. 'available' for built-in sets is checked on "
                             + "the API's machine at its configured path; separate workers check their own disk when a job runs.");
        group.MapGet("{id:guid}", GetDatasetAsync)
            .WithName("GetDataset")
            .WithSummary("One uploaded dataset")
            .ProducesProblem(StatusCodes.Status404NotFound);
        group.MapDelete("{id:guid}", DeleteDatasetAsync)
            .WithName("DeleteDataset")
            .WithSummary("Delete an uploaded dataset; refused (409) while a queued or running job uses it")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        return group;
    }

    public static async Task<Created<DatasetDto>> UploadDatasetAsync(HttpRequest request, [AsParameters] DatasetServices services, CancellationToken cancellationToken)
    {
        var idempotencyKey = IdempotencyKey.Of(request.HttpContext);
        var options = services.Uploads.Value;
        using var upload = await MultipartUpload.ReadAsync(request, services.Store, options.MaxBytes, $"{DatasetUploadOptions.Section}:MaxBytes", "dataset", ["name"], cancellationToken);
        var name = upload.Fields.GetValueOrDefault("name") ?? Path.GetFileNameWithoutExtension(upload.FileName);
        if (idempotencyKey is not null && await FindByIdempotencyKeyAsync(services.Db, idempotencyKey, cancellationToken) is { } earlier)
        {
            // The same key with another file or name is another request (IETF Idempotency-Key draft: 422).
            if (earlier.Sha256 != upload.File.Sha256 || name != earlier.Name)
            {
                throw new IdempotencyKeyMismatchException(
                    $"The {IdempotencyKey.Header} was first used to upload dataset {earlier.Id} ('{earlier.Name}', SHA-256 {earlier.Sha256}); "
                    + "this request sends another file or name. Send a new key for a new upload.");
            }
            return Created(earlier);
        }
        if (name.Length > MaxNameLength || name.Any(char.IsControl))
        {
            throw new RequestValidationException("name", $"A dataset name has at most {MaxNameLength} printable characters.");
        }
        if (services.BuiltIn.Find(name) is not null)
        {
            throw new RequestValidationException("name", $"'{name}' is a built-in dataset's name; give the upload another name.");
        }
        DatasetFileDescription description;
        try
        {
            description = UploadedDatasets.Inspect(upload.File.Path, upload.FileName, options.ToLimits());
        }
        catch (DatasetException e)
        {
            throw new RequestValidationException("file", e.Message);
        }

        var dataset = new UploadedDataset
        {
            Id = Guid.CreateVersion7(),
            Name = name,
            FileName = upload.FileName,
            Format = description.Format,
            SizeBytes = upload.File.SizeBytes,
            Sha256 = upload.File.Sha256,
            RelativePath = "",
            CreatedAt = services.Time.GetUtcNow().UtcDateTime,
            Channels = description.Channels,
            Labeled = description.IsLabeled,
            ClassNames = [.. description.ClassNames],
            TrainImages = description.TrainCount,
            TestImages = description.TestCount,
            ImageHeight = description.Height,
            ImageWidth = description.Width,
            IdempotencyKey = idempotencyKey,
        };
        dataset.RelativePath = ArtifactStore.DatasetPath(dataset.Id, upload.FileName);
        var concurrent = await upload.KeepAsync<DatasetDto>(services.Store, dataset.RelativePath, async () =>
            {
                services.Db.Datasets.Add(dataset);
                await services.Db.SaveChangesAsync(CancellationToken.None);
            },
            idempotencyKey is null ? null : () => FindByIdempotencyKeyAsync(services.Db, idempotencyKey, CancellationToken.None));
        if (concurrent is not null)
        {
            return Created(concurrent);
        }
        services.Logger.LogInformation("Dataset {DatasetId} stored: {FileName}, {SizeBytes} bytes, SHA-256 {Sha256}, labeled {Labeled}, {Classes} classes, {Train}/{Test} images",
            dataset.Id, dataset.FileName, dataset.SizeBytes, dataset.Sha256, dataset.Labeled, dataset.ClassNames.Count, dataset.TrainImages, dataset.TestImages);
        return Created(DatasetQueries.ToDto(dataset));
    }

    public static async Task<Ok<PagedResult<DatasetDto>>> ListDatasetsPageAsync(
        [FromServices] DatasetQueries datasets, CancellationToken cancellationToken,
        [Description(Paging.PageDescription)] int page = 1, [Description(Paging.PageSizeDescription)] int pageSize = Paging.DefaultPageSize) =>
        TypedResults.Ok(await datasets.ListAsync(page, pageSize, cancellationToken));

    public static async Task<Ok<DatasetDto>> GetDatasetAsync(Guid id, [FromServices] DatasetQueries datasets, CancellationToken cancellationToken) =>
        TypedResults.Ok(await datasets.GetAsync(id, cancellationToken));

    public static async Task<NoContent> DeleteDatasetAsync(Guid id, [AsParameters] DatasetServices services, CancellationToken cancellationToken)
    {
        var dataset = await DatasetQueries.LoadAsync(services.Db, id, cancellationToken);
        // Every team's jobs: one an admin moved to another team may still use it.
        await ActiveJobs.RefuseWhileUsedAsync(services.Db.Jobs.IgnoreQueryFilters([ModelOptDbContext.TeamFilter]).Where(j => j.DatasetId == id), $"Dataset {id}", cancellationToken);
        await services.Db.Datasets.Where(d => d.Id == id).ExecuteDeleteAsync(cancellationToken);
        services.Store.Delete(dataset.RelativePath);
        return TypedResults.NoContent();
    }

    private static async Task<DatasetDto?> FindByIdempotencyKeyAsync(ModelOptDbContext db, string idempotencyKey, CancellationToken cancellationToken) =>
        await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.IdempotencyKey == idempotencyKey, cancellationToken) is { } dataset
            ? DatasetQueries.ToDto(dataset)
            : null;

    private static Created<DatasetDto> Created(DatasetDto dataset) => TypedResults.Created($"/api/datasets/{dataset.Id}", dataset);
}
