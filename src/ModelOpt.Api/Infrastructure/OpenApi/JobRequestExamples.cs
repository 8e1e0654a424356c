using System.Text.Json.Nodes;
using ModelOpt.Api.Application.Catalog;

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>
/// The named examples of POST /api/jobs that Swagger UI offers in its "Examples" list; each one runs as it stands. They
/// give only what differs from the settings' defaults, which the schema declares (written once, in the engine's records).
/// </summary>
public static class JobRequestExamples
{
    public const string UploadedCheckpoint = "uploaded-checkpoint";
    public const string Notebook = "notebook";
    public const string QuickTraining = "quick-training";
    public const string UploadedDataset = "uploaded-dataset";

    /// <summary>Stands in for a checkpoint id until one is uploaded; the API answers that it does not exist.</summary>
    public static readonly Guid CheckpointPlaceholder = Guid.Empty;

    /// <summary>Stands in for a dataset id until one is uploaded; the API answers that it does not exist.</summary>
    public static readonly Guid DatasetPlaceholder = Guid.Empty;

    public static IReadOnlyList<JobRequestExample> All { get; } =
    [
        new(UploadedCheckpoint, "Quantize an uploaded checkpoint",
            "Set checkpointId to the id that POST /api/checkpoints returned (Swagger UI fills in the newest upload) and model to the "
            + "architecture it was saved from. Scores the whole test set; lower evaluation.testSubset for a faster run.",
            Request(ModelCatalog.SmallModel, checkpointId: CheckpointPlaceholder, training: null, testSubset: null)),
        new(Notebook, "The notebook's job: train ResNet18-CIFAR, then quantize it",
            "No checkpoint: trains one epoch on 6 000 images first (tens of minutes on a CPU), then evaluates, calibrates, converts "
            + "and compiles as the notebook does.",
            Request(ModelCatalog.NotebookModel, checkpointId: null,
                training: new JsonObject { ["trainSubset"] = 6000 },
                testSubset: null)),
        new(QuickTraining, "A quick run: train ResNet-20 briefly, quantize, score 1 000 images",
            "A few minutes on two CPU cores: the whole pipeline on a small model, with accuracy that only shows the flow.",
            Request(ModelCatalog.SmallModel, checkpointId: null,
                training: new JsonObject { ["learningRate"] = 0.05, ["batchSize"] = 64, ["trainSubset"] = 3000 },
                testSubset: 1000)),
        new(UploadedDataset, "Train and quantize on your own images, with their transform",
            "Set dataset to the id that POST /api/datasets returned (Swagger UI fills in the newest upload). Resizes the shorter side "
            + "to 36 and center-crops 32x32, normalizes with your statistics, calibrates on 256 images stratified by class (seed 0); "
            + "a zip of class folders at its root is split 80/20 with seed 0.",
            UploadedDatasetRequest()),
    ];

    private static JsonObject UploadedDatasetRequest()
    {
        var request = Request(ModelCatalog.SmallModel, checkpointId: null,
            training: new JsonObject { ["learningRate"] = 0.05, ["batchSize"] = 64 }, testSubset: null);
        request["dataset"] = DatasetPlaceholder.ToString();
        request["preprocessing"] = new JsonObject
        {
            ["resize"] = new JsonArray(36), ["centerCrop"] = new JsonArray(32), ["mean"] = new JsonArray(0.5), ["std"] = new JsonArray(0.5),
        };
        return request;
    }

    private static JsonObject Request(string model, Guid? checkpointId, JsonObject? training, int? testSubset)
    {
        var request = new JsonObject { ["model"] = model, ["dataset"] = "fashion-mnist", ["device"] = "cpu" };
        if (checkpointId is { } id)
        {
            request["checkpointId"] = id.ToString();
        }
        if (training is not null)
        {
            request["training"] = training;
        }
        if (testSubset is not null)
        {
            request["evaluation"] = new JsonObject { ["testSubset"] = testSubset };
        }
        return request;
    }
}
