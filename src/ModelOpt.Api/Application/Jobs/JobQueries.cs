using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Presentation;
using ModelOpt.Jobs.Artifacts;
using ModelOpt.Jobs.Infrastructure;
using ModelOpt.Jobs.Workers;

namespace ModelOpt.Api.Application.Jobs;

/// <summary>Which jobs a list shows: any of <c>Statuses</c> (all when empty), one page, newest first.</summary>
public sealed record JobListQuery(
    IReadOnlyList<JobStatus> Statuses, int Page, int PageSize, string? Model = null, string? Dataset = null, string? Device = null);

/// <summary>The values the jobs list's filters offer: those of the stored jobs.</summary>
public sealed record JobFilterChoices(IReadOnlyList<string> Models, IReadOnlyList<string> Datasets, IReadOnlyList<string> Devices);

/// <summary>An artifact's file in the store, as a download serves it.</summary>
public sealed record StoredArtifactFile(string Path, string ContentType, string FileName, string Sha256);

/// <summary>
/// What the endpoints and the pages read about jobs (ADR-026): the answers as DTOs. A job, layer list or artifact that
/// does not exist (or is another team's) is a <see cref="NotFoundException"/>; a list out of range a <see cref="RequestValidationException"/>.
/// </summary>
public sealed class JobQueries(ModelOptDbContext db, WorkerRegistry workers, ArtifactStore store, TimeProvider time)
{
    public const int MaxComparedJobs = 20;

    /// <summary>The job, with what keeps it waiting when it is queued; null when there is none with that id.</summary>
    public async Task<JobDto?> FindAsync(Guid id, CancellationToken cancellationToken)
    {
        if (await JobRows.FindAsync(db, id, cancellationToken) is not { } job)
        {
            return null;
        }
        var warnings = job.Status == JobStatus.Queued ? await workers.WarningsForQueuedAsync(job.Device, job.Queue, cancellationToken) : null;
        return job.ToDto(time.GetUtcNow().UtcDateTime, warnings);
    }

    /// <exception cref="NotFoundException">No job has that id.</exception>
    public async Task<JobDto> GetAsync(Guid id, CancellationToken cancellationToken) =>
        await FindAsync(id, cancellationToken) ?? throw JobRows.NotFound(id);

    /// <exception cref="RequestValidationException">The page or its size is out of range.</exception>
    public async Task<PagedResult<JobSummaryDto>> ListAsync(JobListQuery list, CancellationToken cancellationToken)
    {
        Paging.Check(list.Page, list.PageSize);
        var query = db.Jobs.AsNoTracking().Include(j => j.Results).AsSplitQuery();
        if (list.Statuses.Count > 0)
        {
            var statuses = list.Statuses;
            query = query.Where(j => statuses.Contains(j.Status));
        }
        if (!string.IsNullOrEmpty(list.Model))
        {
            query = query.Where(j => j.Model == list.Model);
        }
        if (!string.IsNullOrEmpty(list.Dataset))
        {
            query = query.Where(j => j.Dataset == list.Dataset);
        }
        if (!string.IsNullOrEmpty(list.Device))
        {
            query = query.Where(j => j.Device == list.Device);
        }
        var total = await query.CountAsync(cancellationToken);
        var jobs = await query.OrderByDescending(j => j.CreatedAt).ThenByDescending(j => j.Id)
            .Skip((list.Page - 1) * list.PageSize).Take(list.PageSize).ToListAsync(cancellationToken);
        return new PagedResult<JobSummaryDto>(jobs.Select(j => j.ToSummary()).ToList(), list.Page, list.PageSize, total);
    }

    public async Task<JobFilterChoices> FilterChoicesAsync(CancellationToken cancellationToken)
    {
        var jobs = db.Jobs.AsNoTracking();
        return new JobFilterChoices(
            await jobs.Select(j => j.Model).Distinct().OrderBy(m => m).ToListAsync(cancellationToken),
            await jobs.Select(j => j.Dataset).Distinct().OrderBy(d => d).ToListAsync(cancellationToken),
            await jobs.Select(j => j.Device).Distinct().OrderBy(d => d).ToListAsync(cancellationToken));
    }

    /// <summary>The per-layer sensitivity report, most sensitive first; empty until the convert stage has run.</summary>
    /// <exception cref="NotFoundException">No job has that id.</exception>
    public async Task<IReadOnlyList<JobLayerDto>> ListLayersAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await db.Jobs.AnyAsync(j => j.Id == id, cancellationToken))
        {
            throw JobRows.NotFound(id);
        }
        return await db.JobLayers.AsNoTracking()
            .Where(l => l.JobId == id)
            .OrderBy(l => l.Rank)
            .Select(l => new JobLayerDto(
                l.Rank, l.Layer, l.Kind, l.SqnrDb, l.Mse, l.ActivationMin, l.ActivationMax, l.OutputScale, l.OutputZeroPoint, l.AccuracyGainWhenFloat))
            .ToListAsync(cancellationToken);
    }

    /// <exception cref="RequestValidationException">The page or its size is out of range.</exception>
    /// <exception cref="NotFoundException">No job has that id.</exception>
    public async Task<PagedResult<ArtifactDto>> ListArtifactsAsync(Guid id, int page, int pageSize, CancellationToken cancellationToken)
    {
        Paging.Check(page, pageSize);
        var job = await JobRows.LoadAsync(db, id, cancellationToken);
        return Paging.Of(job.ArtifactDtos(), page, pageSize);
    }

    /// <exception cref="NotFoundException">The job has no such artifact, or its file is missing from the store.</exception>
    public async Task<StoredArtifactFile> GetArtifactFileAsync(Guid id, string name, CancellationToken cancellationToken)
    {
        var artifact = await db.JobArtifacts.AsNoTracking().SingleOrDefaultAsync(a => a.JobId == id && a.Name == name, cancellationToken)
                       ?? throw new NotFoundException($"Job {id} has no artifact '{name}'.");
        var path = store.FullPath(artifact.RelativePath);
        if (!File.Exists(path))
        {
            throw new NotFoundException($"The file of artifact '{name}' is missing from the artifact store.");
        }
        return new StoredArtifactFile(path, artifact.ContentType, artifact.Name, artifact.Sha256);
    }

    /// <summary>The jobs side by side, in the order asked (each once); the first is the reference.</summary>
    /// <exception cref="RequestValidationException">No ids, or more than <see cref="MaxComparedJobs"/>.</exception>
    /// <exception cref="NotFoundException">One of the jobs does not exist.</exception>
    public async Task<IReadOnlyList<JobComparisonDto>> CompareAsync(IReadOnlyList<Guid> ids, CancellationToken cancellationToken)
    {
        if (ids.Count is 0 or > MaxComparedJobs)
        {
            throw CompareIdsInvalid();
        }
        var jobs = new List<JobDto>();
        foreach (var id in ids.Distinct())
        {
            jobs.Add(await GetAsync(id, cancellationToken));
        }
        return jobs
            .Select(j => new JobComparisonDto(j.Id, j.Status, j.Model, j.Dataset, MeasuredCpus.Of(j), MeasuredCpus.DifferFrom(jobs[0], j), j.Headline,
                MeasuredForm.Measure(j), MeasuredForm.MeasuredOtherwise(jobs[0], j)))
            .ToList();
    }

    /// <summary>The error of a comparison's id list that is empty, too long or not all job ids.</summary>
    public static RequestValidationException CompareIdsInvalid() =>
        new("ids", $"Give 1 to {MaxComparedJobs} job ids, comma-separated.");
}
