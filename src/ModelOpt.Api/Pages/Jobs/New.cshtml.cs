using Microsoft.AspNetCore.Mvc.RazorPages;
using ModelOpt.Api.Application.Catalog;
using ModelOpt.Api.Application.Checkpoints;
using ModelOpt.Api.Application.Datasets;
using ModelOpt.Api.Presentation;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Qat;
using ModelOpt.Engine.Quantization.Config;

namespace ModelOpt.Api.Pages.Jobs;

/// <summary>
/// The common job as a form. The page posts the same JSON a client would to POST /api/jobs and shows the API's own
/// validation messages next to the fields, so the form and the API never disagree.
/// </summary>
public sealed class NewModel(CheckpointQueries checkpoints, DatasetQueries datasets) : PageModel
{
    public IReadOnlyList<ModelDto> Models { get; private set; } = [];

    public IReadOnlyList<DatasetDto> Datasets { get; private set; } = [];

    public IReadOnlyList<CheckpointDto> Checkpoints { get; private set; } = [];

    public IReadOnlyList<string> Observers => ActivationObserverNames.Choices;

    /// <summary>The form's model: a light one, so that a job made with the defaults takes minutes, not hours.</summary>
    public const string LightModel = ModelZoo.ResNet20;

    /// <summary>The quickstart's subsets: training images (without a checkpoint) and test images scored.</summary>
    public const int LightTrainSubset = 4000;

    public const int LightTestSubset = 1000;

    /// <summary>Defaults of the other fields: the API's own defaults.</summary>
    public QuantizationOptions Quantization { get; } = new();

    public TrainingOptions Training { get; } = new();

    public QatOptions Qat { get; } = new();

    /// <summary>An upload as the list names it: file, model, when, the start of its SHA-256 and its id's random tail, so that uploads of one file (even the same bytes in the same second) differ.</summary>
    public static string CheckpointLabel(CheckpointDto checkpoint) =>
        $"{checkpoint.FileName} · {checkpoint.Model ?? "no model checked"} · uploaded {Format.Time(checkpoint.CreatedAt)} · sha256 {checkpoint.Sha256[..8]} · id {Format.ShortId(checkpoint.Id)}";

    /// <summary>A dataset as the list names it: uploads say so, and a set without labels says what it can serve (a checkpoint's job, not training).</summary>
    public static string DatasetLabel(DatasetDto dataset) =>
        dataset.Name
        + (dataset.Id is null ? "" : dataset.Labeled ? " (uploaded)" : " (uploaded, no labels: quantize a checkpoint, compared with FP32)")
        + (dataset.Available ? "" : " (not on this machine)");

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Models = ModelCatalog.Models;
        Datasets = await datasets.ListAllAsync(cancellationToken);
        Checkpoints = await checkpoints.ListAllAsync(cancellationToken);
    }
}
