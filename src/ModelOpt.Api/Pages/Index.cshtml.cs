using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ModelOpt.Api.Application.Jobs;
using ModelOpt.Api.Presentation;

namespace ModelOpt.Api.Pages;

/// <summary>
/// The jobs list: every job, newest first, a page at a time, filtered by status, model, dataset and device (the filters
/// GET /api/jobs takes), with its headline result; rows update themselves while jobs run.
/// </summary>
public sealed class IndexModel(JobQueries queries) : PageModel
{
    public const int PageSize = 50;

    [BindProperty(SupportsGet = true, Name = "status")]
    public JobStatus? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "model")]
    public string? ModelName { get; set; }

    [BindProperty(SupportsGet = true, Name = "dataset")]
    public string? Dataset { get; set; }

    [BindProperty(SupportsGet = true, Name = "device")]
    public string? Device { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public PagedResult<JobSummaryDto> Jobs { get; private set; } = null!;

    /// <summary>The values the filters offer: those of the stored jobs.</summary>
    public IReadOnlyList<string> Models { get; private set; } = [];

    public IReadOnlyList<string> Datasets { get; private set; } = [];

    public IReadOnlyList<string> Devices { get; private set; } = [];

    public int PageCount => Math.Max(1, (Jobs.TotalCount + PageSize - 1) / PageSize);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, PageNumber);
        Jobs = await queries.ListAsync(
            new JobListQuery(Status is { } status ? [status] : [], PageNumber, PageSize, ModelName, Dataset, Device), cancellationToken);
        (Models, Datasets, Devices) = await queries.FilterChoicesAsync(cancellationToken);
    }

    /// <summary>This list's address with the same filters on another page.</summary>
    public string PageUrl(int page) =>
        QueryString.Create(new Dictionary<string, string?>
        {
            ["status"] = Status?.ToString(), ["model"] = ModelName, ["dataset"] = Dataset, ["device"] = Device, ["p"] = page.ToString(System.Globalization.CultureInfo.InvariantCulture),
        }.Where(p => !string.IsNullOrEmpty(p.Value))) is var query ? "/" + query : "/";
}
