using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json;

namespace ModelOpt.Api.Contracts;

// Plain comments, not XML docs: the API's XML file feeds Swashbuckle, and these would change the OpenAPI document (ADR-026).

// An optimization job: quantize a model to int8 (training it first when no checkpoint is given) and measure every form.
// Its settings sections (training, quantization, …) are JobSpec's, inherited: one list of them.
public sealed class CreateJobRequest : JobSpec
{
    [Description("A model name from GET /api/models, e.g. resnet18-cifar or resnet20; left out for an ONNX checkpoint, which carries its own.")]
    public string? Model { get; set; }

    [Required, MaxLength(64), Description("A built-in dataset's name (fashion-mnist, cifar10, synthetic) or an uploaded dataset's id, from GET /api/datasets.")]
    public string? Dataset { get; set; }

    [MaxLength(1024), Description("Folder of the dataset files on the worker's disk, on or below a folder the server's ModelOpt:Datasets:AllowedDataRoots lists (none by default, so dataPath is refused); null uses the worker's configured path.")]
    public string? DataPath { get; set; }

    [Description("An uploaded FP32 checkpoint (POST /api/checkpoints); absent trains the model first.")]
    public Guid? CheckpointId { get; set; }

    [Required, RegularExpression("^(cpu|cuda(:[0-9]+)?)$", ErrorMessage = "Device must be 'cpu', 'cuda' or 'cuda:N'."),
     Description("Device whose worker queue runs the job: cpu, cuda or cuda:N.")]
    public string Device { get; set; } = "cpu";

    // The request's settings sections, as stored with the job: a copy through the stored JSON, which holds them alone.
    public JobSpec ToSpec() => JsonSerializer.Deserialize<JobSpec>(JsonSerializer.SerializeToUtf8Bytes<JobSpec>(this, Json), Json)!;
}
