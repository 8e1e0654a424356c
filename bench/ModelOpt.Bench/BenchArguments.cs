using System.Globalization;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Bench;

/// <summary>The bench's command line: <c>--name value</c> pairs, each optional.</summary>
internal sealed record BenchArguments(
    string Model,
    string Dataset,
    string? DataPath,
    string? CheckpointPath,
    TrainingOptions Training,
    EvaluationOptions Evaluation)
{
    public const string Usage =
        "usage: ModelOpt.Bench [--model resnet20] [--dataset fashion-mnist] [--data PATH] [--checkpoint FILE] [--epochs N] " +
        "[--train-subset N] [--test-subset N] [--lr X] [--batch-size N] [--seed N] [--latency-batch N] [--threads N]";

    /// <summary>torch.set_num_threads value; null keeps LibTorch's default (one per core).</summary>
    public int? Threads { get; init; }

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

        var known = new[] { "model", "dataset", "data", "checkpoint", "epochs", "train-subset", "test-subset", "lr", "batch-size", "seed", "latency-batch", "threads" };
        var unknown = values.Keys.Except(known).ToList();
        if (unknown.Count > 0)
        {
            throw new ArgumentException($"Unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}.");
        }

        int? Int(string name) => values.TryGetValue(name, out var v) ? int.Parse(v, CultureInfo.InvariantCulture) : null;
        var defaults = new TrainingOptions();
        var training = new TrainingOptions(
            Epochs: Int("epochs") ?? defaults.Epochs,
            LearningRate: values.TryGetValue("lr", out var lr) ? double.Parse(lr, CultureInfo.InvariantCulture) : defaults.LearningRate,
            BatchSize: Int("batch-size") ?? defaults.BatchSize,
            TrainSubset: Int("train-subset"),
            Seed: Int("seed") ?? defaults.Seed);
        var evaluation = new EvaluationOptions(TestSubset: Int("test-subset"), LatencyBatchSize: Int("latency-batch") ?? new EvaluationOptions().LatencyBatchSize);

        return new BenchArguments(
            values.GetValueOrDefault("model", ModelZoo.ResNet20),
            values.GetValueOrDefault("dataset", DatasetCatalog.FashionMnistName),
            values.GetValueOrDefault("data"),
            values.GetValueOrDefault("checkpoint"),
            training,
            evaluation)
        {
            Threads = Int("threads"),
        };
    }
}
