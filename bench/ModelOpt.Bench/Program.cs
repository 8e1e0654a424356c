using ModelOpt.Bench;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Training;
using TorchSharp;

BenchArguments arguments;
try
{
    arguments = BenchArguments.Parse(args);
}
catch (Exception e) when (e is ArgumentException or FormatException)
{
    Console.Error.WriteLine(e.Message);
    Console.Error.WriteLine(BenchArguments.Usage);
    return 2;
}
if (arguments.CheckpointPath is not null)
{
    // Checkpoint loading belongs to the engine's Checkpoints/ component, which is not part of this build yet.
    Console.Error.WriteLine("--checkpoint is not supported yet: run without it to train first.");
    return 2;
}
if (arguments.Threads is { } threads)
{
    torch.set_num_threads(threads);
}

var dataset = DatasetCatalog.Get(arguments.Dataset);
using var splits = dataset.Open(arguments.DataPath);
torch.random.manual_seed(arguments.Training.Seed);
using var model = ModelZoo.Create(arguments.Model, dataset.Channels, dataset.Classes);
Console.WriteLine($"{arguments.Model} on {dataset.Name}: {splits.Train.Count:N0} training / {splits.Test.Count:N0} test images, {torch.get_num_threads()} threads");

var training = Trainer.Train(model, splits.Train, arguments.Training, new ConsoleTrainingProgress());
for (var epoch = 0; epoch < training.EpochDurations.Count; epoch++)
{
    var seconds = training.EpochDurations[epoch].TotalSeconds;
    Console.WriteLine($"Epoch {epoch + 1}: {seconds:F1} s ({training.ImagesPerEpoch / seconds:F0} images/s)");
}
Console.WriteLine($"Final loss {training.FinalLoss:F4}");

var accuracy = AccuracyEvaluator.Measure(model, splits.Test, arguments.Evaluation.TestSubset);
var latency = LatencyEvaluator.Measure(model, dataset.Channels, arguments.Evaluation);
var size = ModelSize.StateDictBytes(model);
Console.WriteLine();
Console.Write(NotebookTable.Format([
    new StageMetrics("fp32 TorchSharp", "cpu", size, accuracy.Accuracy, accuracy.ImagesScored, latency.MeanMs, latency.StdMs, latency.BatchSize),
]));
return 0;
