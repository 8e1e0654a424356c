using System.Collections;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Models;
using TorchSharp.PyBridge;

namespace ModelOpt.Engine.Tests.Checkpoints;

/// <summary>A readable checkpoint for another architecture is refused with every problem listed, and the model is untouched.</summary>
public class CheckpointMismatchTests
{
    [Fact]
    public void Resnet20_into_resnet18_lists_missing_unexpected_and_shape_entries()
    {
        using var model = ModelZoo.Create(ModelZoo.ResNet18Cifar, 1, 10);

        var error = Assert.Throws<CheckpointMismatchException>(() =>
            CheckpointLoader.LoadInto(model, Fixtures.TestData(Fixtures.ResNet20Plain)));

        Assert.Equal("resnet18-cifar (1 input channel, 10 classes)", error.Architecture);
        Assert.Contains("layer4.0.conv1.weight", error.Missing);
        Assert.Contains("layer1.2.conv1.weight", error.Unexpected);
        Assert.Contains(error.ShapeMismatches, m => m is { Key: "conv1.weight", CheckpointShape: [16, 1, 3, 3], ModelShape: [64, 1, 3, 3] });
        Assert.StartsWith("Checkpoint does not match resnet18-cifar (1 input channel, 10 classes): missing: ", error.Message);
        Assert.Contains("unexpected: ", error.Message);
        Assert.Contains("shape mismatch: conv1.weight is [16,1,3,3], model expects [64,1,3,3]", error.Message);
    }

    [Fact]
    public void Resnet20_1ch_into_3ch_reports_only_the_stem_shape_and_leaves_the_model_unchanged()
    {
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 3, 10);
        var before = model.state_dict().ToDictionary(e => e.Key, e => e.Value.clone());

        var error = Assert.Throws<CheckpointMismatchException>(() =>
            CheckpointLoader.LoadInto(model, Fixtures.TestData(Fixtures.ResNet20TrainingDict)));

        Assert.Empty(error.Missing);
        Assert.Empty(error.Unexpected);
        var mismatch = Assert.Single(error.ShapeMismatches);
        Assert.Equal("conv1.weight is [16,1,3,3], model expects [16,3,3,3]", mismatch.ToString());
        Assert.Contains("resnet20 (3 input channels, 10 classes)", error.Message);
        foreach (var (key, tensor) in model.state_dict())
        {
            Assert.True(tensor.allclose(before[key], rtol: 0, atol: 0), $"{key} changed although loading failed");
        }
    }

    [Fact]
    public void Validator_reports_a_mismatch_without_a_caller_model()
    {
        var error = Assert.Throws<CheckpointMismatchException>(() =>
            CheckpointValidator.Validate(Fixtures.TestData(Fixtures.ResNet20Plain), ModelZoo.ResNet20, 1, 100));
        Assert.Equal(["fc.bias", "fc.weight"], error.ShapeMismatches.Select(m => m.Key).Order());
    }

    [Fact]
    public void Integer_weights_for_a_float_parameter_are_a_dtype_mismatch()
    {
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        var path = Path.Combine(Path.GetTempPath(), $"int8-{Guid.NewGuid():N}.pth");
        try
        {
            var state = new Hashtable();
            foreach (var (key, tensor) in model.state_dict())
            {
                state[key] = key == "conv1.weight" ? tensor.to_type(ScalarType.Int8) : tensor;
            }
            PyTorchPickler.PickleStateDict(path, state);

            var error = Assert.Throws<CheckpointMismatchException>(() => CheckpointLoader.LoadInto(model, path));
            var mismatch = Assert.Single(error.DtypeMismatches);
            Assert.Equal("conv1.weight is Int8, model expects Float32", mismatch.ToString());
        }
        finally
        {
            File.Delete(path);
        }
    }
}
