using System.ComponentModel;
using Microsoft.AspNetCore.Mvc;
using ModelOpt.Api.Application.Jobs;

namespace ModelOpt.Api.Endpoints;

public static class JobComparisonEndpoints
{
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
        [FromServices] JobQueries jobs, CancellationToken cancellationToken)
    {
        var parsed = ids.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(text => Guid.TryParse(text, out var id) ? id : (Guid?)null).ToList();
        if (parsed.Any(id => id is null))
        {
            throw JobQueries.CompareIdsInvalid();
        }
        return TypedResults.Ok(await jobs.CompareAsync(parsed.Select(id => id!.Value).ToList(), cancellationToken));
    }
}
