using ModelOpt.Engine.Storage;

namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// The files one job's stages hand to each other. Each stage reads only what earlier stages completed and writes its
/// own files atomically, so a job re-run after a crash with the same folder resumes at its first unfinished stage.
/// </summary>
public sealed class JobWorkspace(string directory)
{
    public const string TrainedCheckpoint = "model-fp32.pth";
    public const string Int8SafeTensors = "model-int8.safetensors";
    public const string Int8TorchScript = "model-int8.pt";
    public const string Int8Manifest = "model-int8.manifest.json";
    public const string Fp32Onnx = "model-fp32.onnx";
    public const string Int8Onnx = "model-int8.onnx";
    public const string Int8OneDnnFusedTorchScript = "model-int8-onednn-fused.pt";
    public const string CalibrationSample = "calibration-sample.json";
    public const string ValidationSplit = "validation-split.json";
    /// <summary>The FP32 model's top-1 on the test images, kept so convert can state the drop on the test set beside the validation split's.</summary>
    public const string Fp32TestAccuracy = "fp32-test-accuracy.json";
    public const string AccuracyBudget = "accuracy-budget.json";
    /// <summary>A generic job's FP32 outputs on its evaluation images: every form's fidelity is measured against them (ADR-020).</summary>
    public const string Fp32Outputs = "fp32-outputs.safetensors";
    /// <summary>A generic job's converted form's fidelity, for the compile stage's choice as <see cref="Int8Manifest"/>'s accuracy is for a classifier's.</summary>
    public const string Int8Fidelity = "int8-fidelity.json";
    public const string FidelityBudget = "fidelity-budget.json";
    public const string ObserverSelection = "observer-selection.json";
    public const string CrossLayerEqualization = "cross-layer-equalization.json";
    /// <summary>What quantization-aware fine-tuning gained (<see cref="Stages.QatOutcome"/>).</summary>
    public const string Qat = "qat.json";
    /// <summary>The calibrate stage's product: every observed activation's qparams (<see cref="Quantization.Calibration.CalibratedActivations"/>).</summary>
    public const string CalibratedActivations = "calibrated-activations.json";
    /// <summary>The Qat stage's product: each int8 layer's fine-tuned float weight and bias, which convert quantizes.</summary>
    public const string QatWeights = "qat-weights.safetensors";
    /// <summary>Every layer int8: written only when the accuracy budget kept layers FP32, so convert can time both.</summary>
    public const string Int8AllLayersSafeTensors = "model-int8-all-layers.safetensors";

    public string Directory { get; } = directory;

    public string PathOf(string file) => Path.Combine(Directory, file);

    public bool Has(string file) => File.Exists(PathOf(file));

    /// <summary>Writes one of the job's files atomically (<see cref="AtomicFile"/>).</summary>
    public string Write(string file, Action<string> write)
    {
        System.IO.Directory.CreateDirectory(Directory);
        return AtomicFile.Write(PathOf(file), write);
    }

    /// <summary>Removes one of the job's files where it exists (a stage's first run may find no folder yet).</summary>
    public void Delete(string file)
    {
        if (Has(file))
        {
            File.Delete(PathOf(file));
        }
    }

    public StageArtifact Artifact(string file, string contentType = "application/octet-stream") => new(file, PathOf(file), contentType);

    /// <summary>The FP32 checkpoint the job starts from: the user's, or the one its train stage wrote.</summary>
    public string Fp32Checkpoint(OptimizationRequest request) =>
        request.CheckpointPath ?? (Has(TrainedCheckpoint)
            ? PathOf(TrainedCheckpoint)
            : throw new InvalidOperationException("The job has no checkpoint and its train stage has not completed."));
}
