using ModelOpt.Api.Application.Catalog;

namespace ModelOpt.Api.Endpoints;

public static class CatalogEndpoints
{
    public static IEndpointRouteBuilder MapCatalogEndpoints(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("api/models", ListModels)
            .WithTags("Catalog")
            .WithName("ListModels")
            .WithSummary("Models the service can train, load and quantize")
            .WithDescription($"Parameter counts are for {ModelCatalog.ListedInputChannels} input channels and {ModelCatalog.ListedClasses} classes; a job adapts both to its dataset.");
        return routes;
    }

    public static Ok<IReadOnlyList<ModelDto>> ListModels() => TypedResults.Ok(ModelCatalog.Models);
}
