using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using ModelOpt.Api.Endpoints;
using ModelOpt.Api.Presentation;

namespace ModelOpt.Api.Pages;

/// <summary>The jobs list: the newest jobs with their headline result, filtered by status; rows update themselves while jobs run.</summary>
public sealed class IndexModel(JobServices services) : PageModel
{
    public const int PageSize = 100;

    [BindProperty(SupportsGet = true)]
    public JobStatus? Status { get; set; }

    public PagedResult<JobSummaryDto> Jobs { get; private set; } = null!;

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Jobs = (await JobEndpoints.ListJobsAsync(services, Status, cancellationToken, 1, PageSize)).Value!;
}
