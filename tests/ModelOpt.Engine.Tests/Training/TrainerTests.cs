using ModelOpt.Engine.Data;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Tests.Support;
using ModelOpt.Engine.Training;

namespace ModelOpt.Engine.Tests.Training;

[Collection(TrainedResNet20Collection.Name)]
public class TrainerTests(TrainedResNet20 trained)
{
    [Fact]
    public void One_short_epoch_of_resnet20_on_fashion_mnist_beats_70_percent()
    {
        var accuracy = AccuracyEvaluator.Measure(trained.Model, trained.Data.Test, subset: 1_000);

        Assert.Equal(8_000, trained.Result.ImagesPerEpoch);
        Assert.Single(trained.Result.EpochDurations);
        Assert.True(double.IsFinite(trained.Result.FinalLoss));
        Assert.Equal(1_000, accuracy.ImagesScored);
        Assert.True(accuracy.Accuracy > 0.70,
            $"accuracy {accuracy.Accuracy:P1}, final loss {trained.Result.FinalLoss:F3}, {trained.TrainingTime.TotalSeconds:F0} s");
    }

    [Fact]
    public void Progress_counts_every_batch_of_every_epoch()
    {
        using var splits = SyntheticDataset.Create(channels: 1, trainCount: 100);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        var reports = new List<TrainingProgress>();

        var result = Trainer.Train(model, splits.Train, new TrainingOptions { Epochs = 2, BatchSize = 32, TrainSubset = 70 }, new SynchronousProgress<TrainingProgress>(reports.Add));

        Assert.Equal(6, reports.Count);
        Assert.Equal([(1, 1), (1, 2), (1, 3), (2, 1), (2, 2), (2, 3)], reports.Select(r => (r.Epoch, r.Batch)));
        Assert.All(reports, r => Assert.Equal(3, r.BatchesPerEpoch));
        Assert.Equal(1.0, reports[^1].Fraction);
        Assert.Equal(reports[^1].Loss, result.FinalLoss);
        Assert.Equal(2, result.EpochDurations.Count);
        Assert.Equal(70, result.ImagesPerEpoch);
    }

    [Fact]
    public void Cancellation_stops_before_the_next_batch()
    {
        using var splits = SyntheticDataset.Create(channels: 1, trainCount: 100);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var cancellation = new CancellationTokenSource();
        var batchesRun = 0;
        var progress = new SynchronousProgress<TrainingProgress>(_ =>
        {
            batchesRun++;
            cancellation.Cancel();
        });

        Assert.ThrowsAny<OperationCanceledException>(() =>
            Trainer.Train(model, splits.Train, new TrainingOptions { Epochs = 3, BatchSize = 20 }, progress, cancellation.Token));
        Assert.Equal(1, batchesRun);
    }

    [Fact]
    public void Same_seed_gives_the_same_weights()
    {
        using var splits = SyntheticDataset.Create(channels: 1, trainCount: 64);
        var options = new TrainingOptions { Epochs = 1, BatchSize = 32, Seed = 11 };

        float TrainedFcSum()
        {
            random.manual_seed(options.Seed);
            using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
            Trainer.Train(model, splits.Train, options);
            using var weight = model.state_dict()["fc.weight"].sum();
            return weight.item<float>();
        }

        Assert.Equal(TrainedFcSum(), TrainedFcSum());
    }
}
