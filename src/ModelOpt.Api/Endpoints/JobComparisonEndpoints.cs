using System.ComponentModel;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Presentation;

namespace ModelOpt.Api.Endpoints;

public static class JobComparisonEndpoints
{
    private const int MaxJobs = 20;

    public static RouteHandlerBuilder MapJobComparisonEndpoints(this IEndpointRouteBuilder routes) =>
        routes.MapGet("api/jobs/compare", CompareJobsAsync)
            .WithTags("Jobs")
            .WithName("CompareJobs")
            .WithSummary("Jobs side by side: headline results and the CPUs they were measured on")
            .WithDescription("The /compare page's table. A job measured on another CPU than the first job, or on several (resumed by another "
                             + "worker), has measuredOnOtherCpu: its latencies and speed-up are not comparable with the first job's. A job judged by "
                             + "another measure (top-1 against labels, or fidelity to FP32 on other outputs) has measuredOtherwise: its accuracy or "
                             + "fidelity figures are not comparable with the first job's.")
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound);

    public static async Task<Ok<IReadOnlyList<JobComparisonDto>>> CompareJobsAsync(
        [Description("Job ids, comma-separated, 1-20; the first is the reference.")] string ids,
        [AsParameters] JobServices services, CancellationToken cancellationToken)
    {
        var parsed = ids.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(text => Guid.TryParse(text, out var id) ? id : (Guid?)null).ToList();
        if (parsed.Count is 0 or > MaxJobs || parsed.Any(id => id is null))
        {
            throw new RequestValidationException("ids", $"Give 1 to {MaxJobs} job ids, comma-separated.");
        }
        var jobs = new List<JobDto>();
        foreach (var id in parsed.Distinct())
        {
            jobs.Add((await JobEndpoints.GetJobAsync(id!.Value, services, cancellationToken)).Value!);
        }
        IReadOnlyList<JobComparisonDto> rows = jobs
            .Select(j => new JobComparisonDto(j.Id, j.Status, j.Model, j.Dataset, MeasuredCpus.Of(j), MeasuredCpus.DifferFrom(jobs[0], j), j.Headline,
                MeasuredForm.Measure(j), MeasuredForm.MeasuredOtherwise(jobs[0], j)))
            .ToList();
        return TypedResults.Ok(rows);
    }
}
