using Microsoft.AspNetCore.Mvc.RazorPages;
using ModelOpt.Api.Endpoints;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Api.Pages.Jobs;

/// <summary>
/// The common job as a form. The page posts the same JSON a client would to POST /api/jobs and shows the API's own
/// validation messages next to the fields, so the form and the API never disagree.
/// </summary>
public sealed class NewModel(CheckpointServices checkpoints, DatasetServices datasets) : PageModel
{
    public IReadOnlyList<ModelDto> Models { get; private set; } = [];

    public IReadOnlyList<DatasetDto> Datasets { get; private set; } = [];

    public IReadOnlyList<CheckpointDto> Checkpoints { get; private set; } = [];

    public IReadOnlyList<string> Observers => ActivationObserverNames.Choices;

    /// <summary>Defaults of the form: the API's own defaults.</summary>
    public QuantizationSettings Quantization { get; } = new();

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Models = CatalogEndpoints.ListModels().Value!;
        Datasets = (await DatasetEndpoints.ListDatasetsAsync(datasets, cancellationToken)).Value!;
        Checkpoints = (await CheckpointEndpoints.ListCheckpointsAsync(checkpoints, cancellationToken)).Value!;
    }
}
