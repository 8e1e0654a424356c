using ModelOpt.Engine.Models;
using ModelOpt.Jobs.Catalog;

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
        routes.MapGet("api/datasets", ListDatasets)
            .WithTags("Catalog")
            .WithName("ListDatasets")
            .WithSummary("Datasets the service offers, and whether each one is present on this machine's disk")
            .WithDescription("'available' is checked on the API's machine at its configured path; separate workers check their own disk when a job runs.");
        return routes;
    }

    public static Ok<IReadOnlyList<ModelDto>> ListModels() => TypedResults.Ok(Models.Value);

    public static Ok<IReadOnlyList<DatasetDto>> ListDatasets(DatasetLocations datasets)
    {
        IReadOnlyList<DatasetDto> result = datasets.All
            .Select(d => new DatasetDto(d.Name, d.Description, d.Channels, d.Classes, datasets.DefaultPath(d), datasets.IsAvailable(d)))
            .ToList();
        return TypedResults.Ok(result);
    }
}
