using ModelOpt.Engine.Data;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Training;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Training;

/// <summary>
/// The trainer's channels-last steps against a plain NCHW loop, in float64: float32 rounding alone moves a briefly
/// trained resnet20 a long way (ChannelsLast), float64's does not, so any real departure (a wrong stride, a lost momentum
/// buffer, a weight left channels-last) shows as a difference far above the rounding.
/// </summary>
[Collection(GlobalGeneratorCollection.Name)]
public class ChannelsLastTrainingTests
{
    private static readonly TrainingOptions Options = new() { Epochs = 1, LearningRate = 0.05, BatchSize = 8, Seed = 3 };

    [Fact]
    public void Three_channels_last_steps_of_the_trainer_give_the_nchw_weights_and_statistics_in_float64()
    {
        using var splits = SyntheticDataset.Create(channels: 1, trainCount: 24);
        random.manual_seed(Options.Seed);
        using var trained = new Float64Input(ModelZoo.Create(ModelZoo.ResNet20, 1, 10));
        using var reference = new Float64Input(ModelZoo.Create(ModelZoo.ResNet20, 1, 10));
        reference.Model.load_state_dict(trained.Model.state_dict());

        Trainer.Train(trained, splits.Train, Options);
        TrainNchw(reference, splits.Train);

        Assert.Equal(3, trained.ForwardsWithChannelsLastWeights);
        Assert.Equal(0, reference.ForwardsWithChannelsLastWeights);
        Assert.All(trained.Model.parameters().Where(p => p.dim() == 4), p => Assert.True(p.is_contiguous()));
        var expected = reference.Model.state_dict();
        foreach (var (name, actual) in trained.Model.state_dict().Where(kv => kv.Value.is_floating_point()))
        {
            using var difference = (actual - expected[name]).abs().max();
            using var scale = expected[name].abs().max();
            var relative = difference.ToDouble() / scale.ToDouble();
            Assert.True(relative < 1e-9, $"{name}: channels-last differs from NCHW by {relative:E2} of its largest value");
        }
    }

    // Trainer's loop without the layout change: same optimizer, loss, batch order and dispose pattern.
    private static void TrainNchw(nn.Module<Tensor, Tensor> model, ImageDataset train)
    {
        random.manual_seed(Options.Seed);
        var shuffle = new Random(Options.Seed);
        using var optimizer = optim.SGD(model.parameters(), Options.LearningRate, momentum: Trainer.Momentum);
        using var criterion = nn.CrossEntropyLoss();
        model.train();
        using var scope = NewDisposeScope();
        foreach (var batch in train.Batches(Options.BatchSize, shuffle))
        {
            optimizer.zero_grad();
            criterion.call(model.call(batch.Images), batch.Labels).backward();
            optimizer.step();
            scope.DisposeEverything();
        }
    }

    /// <summary>
    /// A zoo model run in float64 between casts from and to the trainer's float32 (its loss is float32), counting the
    /// forwards that saw channels-last weights.
    /// </summary>
    private sealed class Float64Input : nn.Module<Tensor, Tensor>
    {
        private readonly ZooModel model;

        public Float64Input(ZooModel model) : base(nameof(Float64Input))
        {
            this.model = model;
            model.to(float64);
            RegisterComponents();
        }

        public ZooModel Model => model;

        public int ForwardsWithChannelsLastWeights { get; private set; }

        public override Tensor forward(Tensor input)
        {
            if (model.parameters().Any(p => p.dim() == 4 && !p.is_contiguous()))
            {
                ForwardsWithChannelsLastWeights++;
            }
            using var float64Input = input.to(float64);
            using var logits = model.call(float64Input);
            return logits.to(float32);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                model.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
