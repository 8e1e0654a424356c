using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Models;
using TorchSharp.PyBridge;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Checkpoints;

/// <summary>Saving and loading again gives a model with identical outputs, in each format.</summary>
[Collection(GlobalGeneratorCollection.Name)]
public sealed class CheckpointRoundTripTests : IDisposable
{
    private readonly string folder = Directory.CreateTempSubdirectory("modelopt-ckpt-").FullName;

    public void Dispose() => Directory.Delete(folder, recursive: true);

    [Theory]
    [InlineData("model.pth", CheckpointFormat.PyTorch)]
    [InlineData("model.safetensors", CheckpointFormat.Safetensors)]
    [InlineData("model.dat", CheckpointFormat.TorchSharp)]
    public void Round_trip_reproduces_outputs_exactly(string fileName, CheckpointFormat format)
    {
        using var original = TrainedLikeResNet20();
        var path = Path.Combine(folder, fileName);
        CheckpointWriter.Save(original, path);

        using var reloaded = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var checkpoint = CheckpointReader.Read(path);
        Assert.Equal(format, checkpoint.Format);
        CheckpointLoader.LoadInto(reloaded, checkpoint);

        using var input = Fixtures.Input("input_uniform_4x1x32x32.f32", 1);
        using var expected = Fixtures.Logits(original, input);
        using var actual = Fixtures.Logits(reloaded, input);
        Assert.True(actual.allclose(expected, rtol: 0, atol: 0), $"{format} round trip changed the outputs");
        Assert.Equal(
            original.state_dict()["layer1.0.bn1.num_batches_tracked"].item<long>(),
            reloaded.state_dict()["layer1.0.bn1.num_batches_tracked"].item<long>());
    }

    [Theory]
    [InlineData(CheckpointFormat.PyTorch)]
    [InlineData(CheckpointFormat.Safetensors)]
    [InlineData(CheckpointFormat.TorchSharp)]
    public void Stream_round_trip_loads_into_a_model(CheckpointFormat format)
    {
        using var original = TrainedLikeResNet20();
        using var buffer = new MemoryStream();
        CheckpointWriter.Save(original, buffer, format);
        buffer.Position = 0;

        using var reloaded = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        CheckpointLoader.LoadInto(reloaded, buffer, "upload");

        foreach (var (key, tensor) in original.state_dict())
        {
            Assert.True(tensor.allclose(reloaded.state_dict()[key], rtol: 0, atol: 0), $"{key} differs after a {format} round trip");
        }
    }

    [Fact]
    public void Float64_checkpoint_is_converted_to_float32()
    {
        using var original = TrainedLikeResNet20();
        // A copy of the same weights, not a second seeded build: tests running in parallel share torch's generator.
        using var asDouble = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        asDouble.load_state_dict(original.state_dict());
        asDouble.to(ScalarType.Float64);
        var path = Path.Combine(folder, "double.safetensors");
        asDouble.save_safetensors(path);

        using var reloaded = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        CheckpointLoader.LoadInto(reloaded, path);

        Assert.Equal(ScalarType.Float32, reloaded.state_dict()["conv1.weight"].dtype);
        using var input = Fixtures.Input("input_uniform_4x1x32x32.f32", 1);
        using var expected = Fixtures.Logits(original, input);
        using var actual = Fixtures.Logits(reloaded, input);
        Assert.True(actual.allclose(expected, rtol: 0, atol: 1e-6));
    }

    // Random weights plus non-trivial BN statistics, so eval-mode outputs depend on every buffer.
    private static ZooModel TrainedLikeResNet20()
    {
        manual_seed(42);
        using var noGrad = no_grad();
        var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        foreach (var (key, tensor) in model.state_dict())
        {
            if (key.EndsWith("running_mean") || key.EndsWith("bias"))
            {
                tensor.uniform_(-0.2, 0.2);
            }
            else if (key.EndsWith("running_var") || (key.Contains("bn") && key.EndsWith("weight")))
            {
                tensor.uniform_(0.5, 1.5);
            }
            else if (key.EndsWith("num_batches_tracked"))
            {
                tensor.fill_(123);
            }
        }
        return model;
    }
}
