using ModelOpt.Engine.Models;

namespace ModelOpt.Api.Endpoints;

public static class CatalogEndpoints
{
    // Counting parameters builds a model once; the answer never changes while the process lives.
    private static readonly Lazy<IReadOnlyList<ModelDto>> Models = new(() =>
        ModelZoo.All.Select(m => new ModelDto(m.Name, m.Description, m.ParameterCount(3, 10), 3, 10)).ToList());

    public static IEndpointRouteBuilder MapCatalogEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("api/models", ListModels)
            .WithTags("Catalog")
            .WithName("ListModels")
            .WithSummary("Models the service can train, load and quantize")
            .WithDescription("Parameter counts are for 3 input channels and 10 classes; a job adapts both to its dataset.");
        return routes;
    }

    public static Ok<IReadOnlyList<ModelDto>> ListModels() => TypedResults.Ok(Models.Value);
}
