using System.Diagnostics;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Engine.Training;

/// <summary>The notebook's <c>train</c>: SGD with momentum 0.9 and cross-entropy over shuffled batches.</summary>
public static class Trainer
{
    public const double Momentum = 0.9;

    /// <summary>
    /// Trains <paramref name="model"/> in place on the first <see cref="TrainingOptions.TrainSubset"/> images of
    /// <paramref name="train"/> (all when null). The batch order comes from <see cref="TrainingOptions.Seed"/>, which also
    /// seeds torch's generator for any random op; seed it before building the model too for reproducible weights.
    /// </summary>
    /// <exception cref="OperationCanceledException">When <paramref name="cancellationToken"/> is cancelled; it is checked before every batch.</exception>
    public static TrainingResult Train(
        nn.Module<Tensor, Tensor> model,
        ImageDataset train,
        TrainingOptions options,
        IProgress<TrainingProgress>? progress = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Epochs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.LearningRate);

        using var subset = options.TrainSubset is { } n ? train.Take(n) : null;
        var data = subset ?? train;
        if (data.Count == 0)
        {
            throw new ArgumentException("The training set is empty.", nameof(train));
        }

        random.manual_seed(options.Seed);
        var shuffle = new Random(options.Seed);
        // Channels-last steps are about 20 % faster (ChannelsLast); before the optimizer, whose momentum buffers take
        // the parameters' strides, and back to NCHW before anything reads the trained weights.
        ChannelsLast.Apply(model);
        try
        {
            return TrainChannelsLast(model, data, options, shuffle, progress, cancellationToken);
        }
        finally
        {
            ChannelsLast.Revert(model);
        }
    }

    private static TrainingResult TrainChannelsLast(
        nn.Module<Tensor, Tensor> model, ImageDataset data, TrainingOptions options, Random shuffle, IProgress<TrainingProgress>? progress, CancellationToken cancellationToken)
    {
        using var optimizer = optim.SGD(model.parameters(), options.LearningRate, momentum: Momentum);
        using var criterion = nn.CrossEntropyLoss();
        var batchesPerEpoch = data.BatchCount(options.BatchSize);
        var durations = new List<TimeSpan>(options.Epochs);
        var lastLoss = double.NaN;

        model.train();
        for (var epoch = 1; epoch <= options.Epochs; epoch++)
        {
            var clock = Stopwatch.StartNew();
            var batchNumber = 0;
            // One scope for the loop, emptied after each batch: batches, activations, gradients' temporaries.
            using var scope = NewDisposeScope();
            foreach (var batch in data.Batches(options.BatchSize, shuffle))
            {
                cancellationToken.ThrowIfCancellationRequested();
                optimizer.zero_grad();
                var loss = criterion.call(model.call(batch.Images), batch.Labels);
                loss.backward();
                optimizer.step();
                lastLoss = loss.item<float>();
                progress?.Report(new TrainingProgress(epoch, options.Epochs, ++batchNumber, batchesPerEpoch, lastLoss));
                scope.DisposeEverything();
            }
            durations.Add(clock.Elapsed);
        }
        return new TrainingResult(durations, lastLoss, data.Count);
    }
}
