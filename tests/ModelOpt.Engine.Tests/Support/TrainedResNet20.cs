using System.Diagnostics;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Training;

namespace ModelOpt.Engine.Tests.Support;

/// <summary>
/// One resnet20 trained on real Fashion-MNIST, shared by the tests that need a trained model, so the suite trains once.
/// Measured on 4 000 images: 47-66 % test accuracy (lr 0.01-0.05, batch 32-64): eval-mode BN statistics lag the
/// weights after so few steps, so this run takes 250 steps of batch 32.
/// </summary>
public sealed class TrainedResNet20 : IDisposable
{
    public static readonly TrainingOptions Options = new() { Epochs = 1, LearningRate = 0.01, BatchSize = 32, TrainSubset = 8_000, Seed = 0 };

    private readonly string directory = Directory.CreateTempSubdirectory("modelopt-trained-").FullName;

    public TrainedResNet20()
    {
        Data = FashionMnist.Load();
        random.manual_seed(Options.Seed);
        Model = ModelZoo.Create(ModelZoo.ResNet20, FashionMnist.Channels, FashionMnist.Classes);
        var clock = Stopwatch.StartNew();
        Result = Trainer.Train(Model, Data.Train, Options);
        TrainingTime = clock.Elapsed;
        Model.eval();
        CheckpointPath = Path.Combine(directory, "resnet20-fmnist.pth");
        CheckpointWriter.Save(Model, CheckpointPath);
    }

    public DatasetSplits Data { get; }

    public ZooModel Model { get; }

    public TrainingResult Result { get; }

    public TimeSpan TrainingTime { get; }

    public string CheckpointPath { get; }

    public void Dispose()
    {
        Model.Dispose();
        Data.Dispose();
        Directory.Delete(directory, recursive: true);
    }
}

/// <summary>Not run in parallel with other tests: the pipeline's compile stage switches LibTorch's process-wide quantized engine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class TrainedResNet20Collection : ICollectionFixture<TrainedResNet20>
{
    public const string Name = "trained resnet20";
}
