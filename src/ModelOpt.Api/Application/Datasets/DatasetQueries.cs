using ModelOpt.Api.Infrastructure;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Jobs.Catalog;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Api.Application.Datasets;

/// <summary>What the endpoints and the pages read about datasets (ADR-026): the built-in ones, then uploads newest first.</summary>
public sealed class DatasetQueries(ModelOptDbContext db, DatasetLocations builtIn)
{
    /// <exception cref="RequestValidationException">The page or its size is out of range.</exception>
    public async Task<PagedResult<DatasetDto>> ListAsync(int page, int pageSize, CancellationToken cancellationToken)
    {
        Paging.Check(page, pageSize);
        return Paging.Of(await ListAllAsync(cancellationToken), page, pageSize);
    }

    /// <summary>Every dataset (the new-job page's list).</summary>
    public async Task<IReadOnlyList<DatasetDto>> ListAllAsync(CancellationToken cancellationToken)
    {
        var uploaded = await db.Datasets.AsNoTracking().OrderByDescending(d => d.CreatedAt).ToListAsync(cancellationToken);
        return
        [
            .. builtIn.All.Select(d => new DatasetDto(d.Name, d.Description, d.Channels, d.Classes, builtIn.DefaultPath(d),
                builtIn.IsAvailable(d), ClassNames: d.ClassNames, TrainImages: d.TrainImages, TestImages: d.TestImages,
                ImageHeight: d.ImageSide, ImageWidth: d.ImageSide)),
            .. uploaded.Select(ToDto),
        ];
    }

    /// <exception cref="NotFoundException">No uploaded dataset has that id.</exception>
    public async Task<DatasetDto> GetAsync(Guid id, CancellationToken cancellationToken) => ToDto(await LoadAsync(db, id, cancellationToken));

    /// <summary>The uploaded dataset's row (another team's is not found either: ADR-024).</summary>
    /// <exception cref="NotFoundException">No uploaded dataset has that id.</exception>
    public static async Task<UploadedDataset> LoadAsync(ModelOptDbContext db, Guid id, CancellationToken cancellationToken) =>
        await db.Datasets.AsNoTracking().SingleOrDefaultAsync(d => d.Id == id, cancellationToken)
        ?? throw new NotFoundException($"Dataset {id} does not exist.");

    public static DatasetDto ToDto(UploadedDataset d) => new(
        d.Name,
        IsSingleSet(d) ? $"Uploaded {Describe(d.Format)}: one set of {d.TrainImages}{Unlabeled(d)} images, split by each job"
            : $"Uploaded {Describe(d.Format)}: {d.TrainImages} train / {d.TestImages} test{Unlabeled(d)} images",
        d.Channels, d.ClassNames.Count, null, true,
        d.Id, DatasetDto.Uploaded, d.ClassNames, d.TrainImages, d.TestImages, d.ImageHeight, d.ImageWidth, d.FileName,
        d.Format == DatasetFileFormat.Npz ? "npz" : "imagefolder-zip", d.SizeBytes, d.Sha256, d.CreatedAt, d.Labeled);

    private static string Unlabeled(UploadedDataset d) => d.Labeled ? "" : " unlabeled";

    private static string Describe(DatasetFileFormat format) => format == DatasetFileFormat.Npz ? "NumPy .npz" : "ImageFolder zip";

    private static bool IsSingleSet(UploadedDataset d) => d.TestImages == 0;
}
