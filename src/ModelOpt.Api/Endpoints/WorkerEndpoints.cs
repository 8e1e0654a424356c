using System.ComponentModel;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Security;
using ModelOpt.Jobs.Workers;

namespace ModelOpt.Api.Endpoints;

public static class WorkerEndpoints
{
    public static RouteGroupBuilder MapWorkerEndpoints(this IEndpointRouteBuilder routes)
    {
        // Workers are shared by every team; what the list shows of a job is its id alone.
        var group = routes.MapGroup("api/workers").WithTags("Workers").WithMetadata(AllTeamsEndpoint.Instance);
        group.MapGet("", ListWorkersAsync)
            .WithName("ListWorkers")
            .WithSummary("Live workers, then those lost or stopped in the last day")
            .WithDescription("Each worker registers itself: host, device and queue, CPU model with AVX2 / AVX-512 VNNI / AMX, LibTorch threads, "
                             + "LibTorch and ONNX Runtime versions, how it reaches the artifact store, start, last heartbeat and current job. "
                             + "A worker without a heartbeat for ModelOpt:Workers:LostAfter is Lost; one that shut down cleanly is Stopped.");
        return group;
    }

    public static async Task<Ok<PagedResult<WorkerDto>>> ListWorkersAsync(
        WorkerRegistry workers, CancellationToken cancellationToken,
        [Description(Paging.PageDescription)] int page = 1, [Description(Paging.PageSizeDescription)] int pageSize = Paging.DefaultPageSize)
    {
        Paging.Check(page, pageSize);
        return TypedResults.Ok(Paging.Of(await workers.ListAsync(cancellationToken), page, pageSize));
    }
}
