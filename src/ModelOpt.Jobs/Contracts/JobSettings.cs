using System.Text.Json;
using System.Text.Json.Serialization;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Qat;

namespace ModelOpt.Jobs.Contracts;

/// <summary>
/// Everything about a job's run besides model, data and checkpoint; stored with the job as JSON. Each section is the
/// engine's own options record (defaults, ranges, allowed values and descriptions written once, there: ADR-025), so the
/// request, the stored spec and what the engine receives are one shape.
/// </summary>
public class JobSpec
{
    /// <summary>How the spec is stored in the jobs table: the API's names (camelCase, enums by their wire names).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    public TrainingOptions Training { get; set; } = new();
    public QuantizationOptions Quantization { get; set; } = new();
    public EvaluationOptions Evaluation { get; set; } = new();
    public CompileOptions Compile { get; set; } = new();
    public ImagePreprocessing Preprocessing { get; set; } = new();
    public DatasetSplitOptions Split { get; set; } = new();
    public OutputOptions Output { get; set; } = new();
    public QatOptions Qat { get; set; } = new();
}
