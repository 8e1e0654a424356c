using ModelOpt.Engine.Models;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.Int8Checkpoint;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Runtime;

[Collection(QuantizedEngineCollection.Name)]
public class Int8CheckpointFormsTests
{
    [Theory]
    [InlineData(ModelZoo.ResNet20, 1, true)]
    [InlineData(ModelZoo.ResNet20, 3, false)]
    [InlineData(ModelZoo.ResNet18Cifar, 3, true)]
    public void Safetensors_checkpoint_rebuilds_a_bit_identical_int8_model(string name, long channels, bool perChannel)
    {
        manual_seed(9);
        var descriptor = new Int8ModelDescriptor(name, [channels, 32, 32], 10);
        using var model = ModelZoo.Create(name, channels, 10);
        using var quantized = QuantizedModels.Quantize(model, descriptor.BatchShape, QuantizedModels.Default(perChannelWeights: perChannel), batches: 1);
        using var int8 = TorchScriptInt8Model.Build(quantized);
        using var input = randn(16, channels, 32, 32);
        using var expected = int8.Run(input);

        var bytes = Int8SafeTensorsCheckpoint.Serialize(quantized, descriptor);
        var (rebuilt, rebuiltDescriptor) = Int8SafeTensorsCheckpoint.Load(bytes);
        using (rebuilt)
        using (var rebuiltInt8 = TorchScriptInt8Model.Build(rebuilt))
        using (var actual = rebuiltInt8.Run(input))
        {
            TensorAssert.BitIdentical(expected, actual);
            Assert.Equal(int8.Source, rebuiltInt8.Source);
            Assert.Equal(descriptor.InputShape, rebuiltDescriptor.InputShape);
            Assert.Equal(quantized.QConfigDescription, rebuilt.QConfigDescription);
        }
    }

    [Fact]
    public void Damaged_safetensors_checkpoints_are_rejected()
    {
        manual_seed(4);
        var descriptor = new Int8ModelDescriptor(ModelZoo.ResNet20, [1, 32, 32], 10);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, descriptor.BatchShape, QuantizedModels.Default(), batches: 1);
        var bytes = Int8SafeTensorsCheckpoint.Serialize(quantized, descriptor);
        var wrongArchitecture = Int8SafeTensorsCheckpoint.Serialize(quantized, descriptor with { ModelName = ModelZoo.ResNet18Cifar, InputShape = [1, 32, 32] });

        Assert.Contains("truncated", Assert.Throws<Int8CheckpointException>(() => Int8SafeTensorsCheckpoint.Load(bytes[..(bytes.Length - 100)])).Message);
        Assert.Contains("header", Assert.Throws<Int8CheckpointException>(() => Int8SafeTensorsCheckpoint.Load([.. bytes[..8], .. "{{{"u8.ToArray(), .. bytes[11..]])).Message);
        Assert.Throws<Int8CheckpointException>(() => Int8SafeTensorsCheckpoint.Load(new byte[5]));
        Assert.Contains("does not fit", Assert.Throws<Int8CheckpointException>(() => Int8SafeTensorsCheckpoint.Load(wrongArchitecture)).Message);
    }

    [Fact]
    public void Manifest_describes_every_layer_and_activation_and_round_trips()
    {
        manual_seed(6);
        var descriptor = new Int8ModelDescriptor(ModelZoo.ResNet20, [1, 32, 32], 10, [.. Enumerable.Range(0, 10).Select(i => $"class{i}")]);
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var quantized = QuantizedModels.Quantize(model, descriptor.BatchShape, QuantizedModels.Default(), batches: 1);

        var manifest = Int8Manifest.Create(quantized, descriptor, QEngine.X86) with { Metrics = new Dictionary<string, double> { ["top1"] = 0.9 } };
        var json = manifest.ToJson();
        var read = Int8Manifest.FromJson(json);

        Assert.Equal(quantized.Weights.Count, read.Layers.Count);
        Assert.Equal(quantized.Activations.Count, read.Activations.Count);
        Assert.Contains("\"quantized_engine\": \"X86\"", json);
        Assert.Contains(read.Layers, l => l.Name == "layer2.0.downsample.0" && l.Kind == "conv2d" && l.PerChannel);
        Assert.Equal("input", read.Activations[0].Producer);
        Assert.Equal(0.9, read.Metrics!["top1"]);
        Assert.Throws<Int8CheckpointException>(() => Int8Manifest.FromJson("{\"format\": \"other\"}"));
    }
}
