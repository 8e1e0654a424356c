using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Quantization;

[Collection(TrainedResNet20Collection.Name)]
public class ActivationObserverSelectionTests(TrainedResNet20 trained, ITestOutputHelper output) : IDisposable
{
    private const int ValidationImages = 300;

    private readonly string workDirectory = Directory.CreateTempSubdirectory("modelopt-auto-").FullName;

    [Fact]
    public async Task Auto_tries_every_candidate_and_delivers_the_one_scoring_best()
    {
        var request = new OptimizationRequest(
            ModelZoo.ResNet20, DatasetCatalog.FashionMnistName, DataPath: null, CheckpointPath: trained.CheckpointPath, new TrainingOptions(),
            new QuantizationOptions { ActivationObserver = ActivationObserverNames.Auto, CalibrationImages = 128, SensitivityImages = ValidationImages },
            new EvaluationOptions { TestSubset = ValidationImages, LatencyBatchSize = 16, WarmupRuns = 1, TimedRuns = 2 });
        var outcomes = new List<StageOutcome>();
        foreach (var stage in new[] { PipelineStage.Calibrate, PipelineStage.Convert })
        {
            outcomes.Add(await new OptimizationPipeline().RunStageAsync(stage, request, workDirectory, new SynchronousProgress<PipelineProgress>(_ => { }), CancellationToken.None));
        }

        var selection = ActivationObserverSelection.FromJson(File.ReadAllText(Path.Combine(workDirectory, JobWorkspace.ObserverSelection)));
        var converted = Assert.Single(outcomes[1].Results);
        output.WriteLine(converted.Note);
        Assert.Equal(ActivationObserverNames.AutoCandidates, selection.Accuracies.Keys);
        Assert.Equal(selection.Accuracies.Values.Max(), selection.Accuracies[selection.Winner]);
        Assert.Equal(ValidationImages, selection.ValidationImages);
        Assert.Contains($"observer auto: {selection.Winner} won", converted.Note);
        Assert.Contains(outcomes[0].Artifacts, a => a.Name == JobWorkspace.ObserverSelection);
        // The delivered model was calibrated with the winner: its qconfig is the one the winner's name builds.
        var (quantized, _) = Int8SafeTensorsCheckpoint.Load(Path.Combine(workDirectory, JobWorkspace.Int8SafeTensors));
        using (quantized)
        {
            Assert.Equal(QConfigFactory.FromOptions(request.Quantization with { ActivationObserver = selection.Winner }).Describe(), quantized.QConfigDescription);
        }
    }

    public void Dispose() => Directory.Delete(workDirectory, recursive: true);
}
