using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Qat;

namespace ModelOpt.Jobs.Contracts;

/// <summary>An optimization job: quantize a model to int8 (training it first when no checkpoint is given) and measure every form.</summary>
public sealed class CreateJobRequest
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

    public TrainingOptions Training { get; set; } = new();
    public QuantizationOptions Quantization { get; set; } = new();
    public EvaluationOptions Evaluation { get; set; } = new();
    public CompileOptions Compile { get; set; } = new();
    public ImagePreprocessing Preprocessing { get; set; } = new();
    public DatasetSplitOptions Split { get; set; } = new();
    public OutputOptions Output { get; set; } = new();
    public QatOptions Qat { get; set; } = new();

    public JobSpec ToSpec() => new()
    {
        Training = Training, Quantization = Quantization, Evaluation = Evaluation, Compile = Compile, Preprocessing = Preprocessing, Split = Split, Output = Output, Qat = Qat,
    };
}
