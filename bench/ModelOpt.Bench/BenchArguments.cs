using System.Globalization;
using System.Security.Cryptography;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Qat;

namespace ModelOpt.Bench;

/// <summary>Command-line options, mapped onto the same <see cref="OptimizationRequest"/> a service job uses.</summary>
internal sealed record BenchArguments(OptimizationRequest Request, bool Fp32Only, bool Compile, string? WorkDirectory, int? Threads)
{
    public static readonly string Usage =
        "usage: ModelOpt.Bench [--model resnet20|resnet18-cifar|...|onnx:NAME (with --checkpoint FILE.onnx)] [--dataset fashion-mnist|cifar10|synthetic] [--data PATH] " +
        "[--checkpoint FILE] [--epochs N] [--train-subset N] [--lr X] [--batch-size N] [--seed N] " +
        $"[--observer {string.Join("|", ActivationObserverNames.Choices)}] [--calibration N] [--calibration-sampling stratified|first|random] [--calibration-seed N] [--calibration-spread-seeds N] " +
        "[--bias-correction true] [--cross-layer-equalization true] [--per-channel-weights false] [--max-accuracy-drop POINTS] [--sensitivity-images N] " +
        "[--test-subset N] [--latency-batch N] [--warmup N] [--timed-runs N] [--threads N] [--work DIR] [--fp32-only true] [--compile false] " +
        "[--resize SIDE|HEIGHT,WIDTH] [--color none|grayscale|rgb] [--qat-epochs N (enables QAT)] [--qat-auto true (QAT only when --max-accuracy-drop is missed all-int8)] [--qat-lr X] [--qat-subset N] [--qat-distillation false] " +
        "[--npz FILE.npz (an uploaded dataset file, as a job's; replaces --dataset)] [--task classification|generic] [--class-axis N]";

    private static readonly string[] Known =
    [
        "model", "dataset", "data", "checkpoint", "epochs", "train-subset", "lr", "batch-size", "seed", "observer", "calibration", "calibration-sampling", "calibration-seed",
        "calibration-spread-seeds",        "test-subset", "latency-batch", "warmup", "timed-runs", "threads", "work", "fp32-only", "compile",
        "bias-correction", "cross-layer-equalization", "per-channel-weights", "max-accuracy-drop", "sensitivity-images", "resize",
        "qat-epochs", "qat-auto", "qat-lr", "qat-subset", "qat-distillation", "npz", "task", "class-axis", "color",
    ];

    public static BenchArguments Parse(IReadOnlyList<string> args)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < args.Count; i += 2)
        {
            if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Count)
            {
                throw new ArgumentException($"Expected '--name value' at '{args[i]}'.");
            }
            values[args[i][2..]] = args[i + 1];
        }
        var unknown = values.Keys.Except(Known).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}.");
        }

        int? Int(string name) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : null;
        var training = new TrainingOptions();
        var quantization = new QuantizationOptions();
        var evaluation = new EvaluationOptions();
        var uploaded = values.TryGetValue("npz", out var npz) ? UploadedNpz(npz) : null;
        var request = new OptimizationRequest(
            values.GetValueOrDefault("model", ModelZoo.ResNet20),
            uploaded is not null ? Path.GetFileNameWithoutExtension(uploaded.FileName) : values.GetValueOrDefault("dataset", DatasetCatalog.FashionMnistName),
            uploaded is not null ? null : values.GetValueOrDefault("data"),
            values.GetValueOrDefault("checkpoint"),
            new TrainingOptions
            {
                Epochs = Int("epochs") ?? training.Epochs,
                LearningRate = values.TryGetValue("lr", out var lr) ? double.Parse(lr, CultureInfo.InvariantCulture) : training.LearningRate,
                BatchSize = Int("batch-size") ?? training.BatchSize,
                TrainSubset = Int("train-subset"),
                Seed = Int("seed") ?? training.Seed,
            },
            quantization with
            {
                ActivationObserver = values.GetValueOrDefault("observer", quantization.ActivationObserver),
                CalibrationImages = Int("calibration") ?? quantization.CalibrationImages,
                CalibrationSampling = values.TryGetValue("calibration-sampling", out var sampling)
                    ? Enum.Parse<CalibrationSampling>(sampling, ignoreCase: true) : quantization.CalibrationSampling,
                CalibrationSeed = Int("calibration-seed") ?? quantization.CalibrationSeed,
                CalibrationSpreadSeeds = Int("calibration-spread-seeds") ?? quantization.CalibrationSpreadSeeds,
                BiasCorrection = values.GetValueOrDefault("bias-correction") == "true",
                CrossLayerEqualization = values.GetValueOrDefault("cross-layer-equalization") == "true",
                PerChannelWeights = values.GetValueOrDefault("per-channel-weights") != "false",
                MaxAccuracyDrop = values.TryGetValue("max-accuracy-drop", out var drop) ? double.Parse(drop, CultureInfo.InvariantCulture) : null,
                SensitivityImages = Int("sensitivity-images"),
            },
            new EvaluationOptions
            {
                TestSubset = Int("test-subset"),
                LatencyBatchSize = Int("latency-batch") ?? evaluation.LatencyBatchSize,
                WarmupRuns = Int("warmup") ?? evaluation.WarmupRuns,
                TimedRuns = Int("timed-runs") ?? evaluation.TimedRuns,
            },
            // The job's preprocessing Resize (e.g. 224,224 for a full-size torchvision model on the synthetic images)
            // and its colour conversion (rgb for a 3-channel model on a grey uploaded set)
            Preprocessing: values.ContainsKey("resize") || values.ContainsKey("color")
                ? new ImagePreprocessing
                  {
                      Resize = values.TryGetValue("resize", out var resize) ? [.. resize.Split(',').Select(v => int.Parse(v, CultureInfo.InvariantCulture))] : null,
                      Color = values.TryGetValue("color", out var color) ? Enum.Parse<ColorConversion>(color, ignoreCase: true) : ColorConversion.None,
                  }
                : null,
            Qat: Int("qat-epochs") is { } qatEpochs
                ? new QatOptions
                  {
                      Enabled = values.GetValueOrDefault("qat-auto") != "true",
                      Auto = values.GetValueOrDefault("qat-auto") == "true",
                      Epochs = qatEpochs,
                      LearningRate = values.TryGetValue("qat-lr", out var qatLr) ? double.Parse(qatLr, CultureInfo.InvariantCulture) : new QatOptions().LearningRate,
                      TrainSubset = Int("qat-subset"),
                      Distillation = values.GetValueOrDefault("qat-distillation") != "false",
                  }
                : null,
            UploadedDataset: uploaded,
            Output: new OutputOptions
            {
                Task = values.TryGetValue("task", out var task) ? Enum.Parse<JobTask>(task, ignoreCase: true) : null, ClassAxis = Int("class-axis"),
            });
        return new BenchArguments(
            request, values.GetValueOrDefault("fp32-only") == "true", values.GetValueOrDefault("compile") != "false", values.GetValueOrDefault("work"), Int("threads"));
    }

    /// <summary>An .npz as the dataset upload accepts it (the same check and description), as a job's request carries it.</summary>
    private static UploadedDatasetFile UploadedNpz(string path)
    {
        var fileName = Path.GetFileName(path);
        var limits = new DatasetFileLimits();
        var description = UploadedDatasets.Inspect(path, fileName, limits);
        using var stream = File.OpenRead(path);
        var sha256 = Convert.ToHexStringLower(SHA256.HashData(stream));
        return new UploadedDatasetFile(path, fileName, description.Format, description.Channels, description.ClassNames,
            description.Height is { } height && description.Width is { } width ? (height, width) : null, sha256, limits);
    }
}
