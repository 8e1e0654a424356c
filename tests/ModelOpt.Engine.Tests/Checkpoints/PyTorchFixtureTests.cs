using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Models;

namespace ModelOpt.Engine.Tests.Checkpoints;

/// <summary>Checkpoints written by real PyTorch load and reproduce PyTorch's logits.</summary>
public class PyTorchFixtureTests
{
    private const float Tolerance = 1e-4f;

    [Theory]
    [InlineData(Fixtures.ResNet20Plain)]
    [InlineData(Fixtures.ResNet20TrainingDict)]
    public void Resnet20_fixture_reproduces_pytorch_logits(string fixture)
    {
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        CheckpointLoader.LoadInto(model, Fixtures.TestData(fixture));

        using var input = Fixtures.Input("input_uniform_4x1x32x32.f32", 1);
        using var logits = Fixtures.Logits(model, input);
        Fixtures.AssertClose(Fixtures.ExpectedLogits(Fixtures.ResNet20Plain, "logits_on_uniform"), logits, Tolerance);
    }

    [Fact]
    public void Training_checkpoint_dict_yields_only_the_model_state_dict()
    {
        using var checkpoint = CheckpointReader.Read(Fixtures.TestData(Fixtures.ResNet20TrainingDict));

        Assert.Equal(CheckpointFormat.PyTorch, checkpoint.Format);
        Assert.Equal(128, checkpoint.Tensors.Count);
        Assert.DoesNotContain(checkpoint.Tensors.Keys, k => k.Contains("momentum") || k.Contains("optimizer"));
        Assert.Equal(ScalarType.Int64, checkpoint.Tensors["bn1.num_batches_tracked"].dtype);
    }

    [Fact]
    public void Num_batches_tracked_is_loaded()
    {
        using var checkpoint = CheckpointReader.Read(Fixtures.TestData(Fixtures.ResNet20Plain));
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        CheckpointLoader.LoadInto(model, checkpoint);

        var loaded = model.state_dict()["layer3.2.bn2.num_batches_tracked"];
        Assert.Equal(ScalarType.Int64, loaded.dtype);
        Assert.Equal(checkpoint.Tensors["layer3.2.bn2.num_batches_tracked"].reshape(-1).item<long>(), loaded.item<long>());
    }

    [Fact]
    public void Dimensions_are_inferred_from_the_checkpoint()
    {
        using var checkpoint = CheckpointReader.Read(Fixtures.TestData(Fixtures.ResNet20TrainingDict));
        Assert.Equal(new ModelDimensions(1, 10), checkpoint.InferDimensions());

        using var model = CheckpointLoader.Load(Fixtures.TestData(Fixtures.ResNet20Plain), ModelZoo.ResNet20);
        Assert.Equal(new ModelDimensions(1, 10), ModelDimensions.Of(model));
    }

    [Fact]
    public void Validator_accepts_the_matching_architecture()
    {
        var rejection = Record.Exception(() => CheckpointValidator.Validate(Fixtures.TestData(Fixtures.ResNet20TrainingDict), ModelZoo.ResNet20, 1, 10));

        Assert.Null(rejection);
    }

    [Fact]
    public void Upload_stream_that_cannot_seek_is_read()
    {
        using var file = File.OpenRead(Fixtures.TestData(Fixtures.ResNet20Plain));
        using var upload = new ForwardOnlyStream(file);
        using var checkpoint = CheckpointReader.Read(upload, "upload.pth");
        Assert.Equal(128, checkpoint.Tensors.Count);
    }

    [SharedFixtureFact(Fixtures.ResNet18Cifar)]
    public void Resnet18_cifar_fixture_reproduces_pytorch_logits()
    {
        var path = Fixtures.Shared(Fixtures.ResNet18Cifar)!;
        using var model = CheckpointLoader.Load(path, ModelZoo.ResNet18Cifar);
        Assert.Equal(new ModelDimensions(3, 10), ModelDimensions.Of(model));

        using var input = Fixtures.Input("input_uniform_4x3x32x32.f32", 3);
        using var logits = Fixtures.Logits(model, input);
        Fixtures.AssertClose(Fixtures.ExpectedLogits(Fixtures.ResNet18Cifar, "logits_on_uniform"), logits, Tolerance);
    }

    /// <summary>An upload body: readable once, front to back.</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
