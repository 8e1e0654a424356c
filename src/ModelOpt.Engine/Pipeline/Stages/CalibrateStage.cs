using System.Text.Json;
using System.Text.Json.Serialization;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Sensitivity;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Pipeline.Stages;

/// <summary>
/// prepare (BN folding, fusion, observers) and calibration on N training images (the first N by default), as the notebook's
/// <c>prepare_pt2e</c> + <c>calibrate</c>. The calibrated qparams and int8 weights are persisted as the plain int8
/// safetensors form, which is what convert rebuilds the int8 model from. The per-layer sensitivity report is measured here,
/// while the FP32 weights are at hand.
/// </summary>
internal static class CalibrateStage
{
    public static readonly JsonSerializerOptions SampleJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.SnakeCaseLower) },
    };

    /// <summary>The sample the calibrate stage recorded in the workspace, or null when it ran before samples were recorded.</summary>
    public static CalibrationSample? RecordedSample(JobWorkspace workspace) =>
        workspace.Has(JobWorkspace.CalibrationSample)
            ? JsonSerializer.Deserialize<CalibrationSample>(File.ReadAllText(workspace.PathOf(JobWorkspace.CalibrationSample)), SampleJson)
            : null;

    public static StageResult Run(StageContext context)
    {
        var options = context.Request.Quantization;
        var qconfig = QConfigFactory.FromOptions(options);
        var model = context.OpenFp32();
        using var prepared = QuantizePt2e.Prepare(model.Graph, qconfig, options.KeepFloat);
        var sample = CalibrationSample.Draw(context.Data.Train, options.CalibrationImages, options.CalibrationSampling, options.CalibrationSeed, context.DatasetSha256());
        context.Workspace.Write(JobWorkspace.CalibrationSample, path => File.WriteAllText(path, JsonSerializer.Serialize(sample, SampleJson)));
        using var calibration = context.Data.Train.Subset(sample.Indices);
        var batches = calibration.BatchCount(options.CalibrationBatchSize);
        var progress = new SynchronousProgress<CalibrationProgress>(p =>
            context.Report((double)p.BatchesDone / batches, $"calibrated on {p.Images} images ({p.BatchesDone}/{batches} batches)"));
        QuantizePt2e.Calibrate(prepared, calibration.Batches(options.CalibrationBatchSize).Select(b => b.Images), progress, context.CancellationToken);
        using var quantized = QuantizePt2e.Convert(prepared);
        // Before saving: the report compares the int8 layers with the FP32 weights the graph still holds.
        using var validation = options.SensitivityImages is { } images ? context.Data.Test.Take(images) : null;
        var layers = LayerSensitivityAnalysis.Analyze(
            quantized, calibration.Batches(options.CalibrationBatchSize).Select(b => b.Images), validation, options.CalibrationBatchSize, context.CancellationToken);
        context.Workspace.Write(JobWorkspace.Int8SafeTensors, path => Int8SafeTensorsCheckpoint.Save(quantized, context.Descriptor, path));
        return new StageResult([],
            [context.Workspace.Artifact(JobWorkspace.Int8SafeTensors), context.Workspace.Artifact(JobWorkspace.CalibrationSample, "application/json")],
            layers, sample);
    }
}
