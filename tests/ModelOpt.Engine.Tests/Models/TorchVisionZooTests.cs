using System.Text.Json;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Tests.Checkpoints;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Models;

/// <summary>
/// The torchvision architectures against real torchvision (scripts/make_torchvision_fixtures.py): the state_dict names
/// and shapes torchvision writes load strictly, and with every tensor filled by the script's formula the logits equal
/// PyTorch's.
/// </summary>
public class TorchVisionZooTests(ITestOutputHelper output)
{
    private static readonly Lazy<JsonDocument> Expected = new(() =>
        JsonDocument.Parse(File.ReadAllText(Fixtures.TestData(Path.Combine("torchvision", "expected.json")))));

    public static TheoryData<string> Architectures =>
        [.. Expected.Value.RootElement.GetProperty("models").EnumerateObject().Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(Architectures))]
    public void Torchvision_state_dict_loads_strictly_and_gives_pytorch_s_logits(string name)
    {
        var expected = Expected.Value.RootElement.GetProperty("models").GetProperty(name);
        using var checkpoint = FormulaStateDict(name, expected.GetProperty("state_dict"));
        var dimensions = checkpoint.InferDimensions();
        Assert.Equal(expected.GetProperty("input_channels").GetInt64(), dimensions.InputChannels);
        Assert.Equal(expected.GetProperty("classes").GetInt64(), dimensions.NumClasses);
        using var model = ModelZoo.Create(name, dimensions.InputChannels, dimensions.NumClasses);

        CheckpointLoader.LoadInto(model, checkpoint);
        model.eval();
        using var input = Fixtures.Input(expected.GetProperty("inputs").GetString()!, dimensions.InputChannels);
        using var noGrad = no_grad();
        using var eager = model.call(input);
        using var captured = GraphBuilder.Capture(model, [1, dimensions.InputChannels, 32, 32]);
        using var traced = GraphInterpreter.Run(captured, input);

        var pytorch = Fixtures.ExpectedLogits(expected.GetProperty("logits"));
        using var reference = tensor(pytorch.Cast<float>().ToArray(), [pytorch.GetLength(0), pytorch.GetLength(1)]);
        using var scale = reference.abs().max();
        var error = (eager - reference).abs().max().item<float>() / scale.item<float>();
        output.WriteLine($"{name}: {checkpoint.Tensors.Count} entries, relative error vs PyTorch {error:E2}");
        Assert.True(error <= 1e-4, $"{name}: relative error {error:E2} vs PyTorch");
        Assert.True(traced.allclose(eager, rtol: 1e-4, atol: 1e-5), $"{name}: the captured graph differs from the eager module");
    }

    [Fact]
    public void Get_models_lists_every_torchvision_architecture_with_both_stems()
    {
        var names = ModelZoo.All.Select(m => m.Name).ToHashSet();

        Assert.Subset(names, new HashSet<string>
        {
            "resnet18", "resnet34", "resnet50", "mobilenet_v2", "resnet18-cifar", "resnet34-cifar", "resnet50-cifar", "mobilenet_v2-cifar",
        });
        Assert.Equal(3_504_872, ModelZoo.Get(ModelZoo.MobileNetV2).ParameterCount(3, 1000)); // torchvision's mobilenet_v2
        Assert.Equal(25_557_032, ModelZoo.Get(ModelZoo.ResNet50).ParameterCount(3, 1000)); // torchvision's resnet50
    }

    /// <summary>torchvision's keys and shapes, in its order, each tensor filled as the fixture script fills it.</summary>
    private static StateDict FormulaStateDict(string name, JsonElement entries)
    {
        var tensors = new Dictionary<string, Tensor>();
        var t = 0;
        foreach (var entry in entries.EnumerateArray())
        {
            var key = entry[0].GetString()!;
            long[] shape = [.. entry[1].EnumerateArray().Select(d => d.GetInt64())];
            tensors[key] = FormulaValue(key, shape, t++);
        }
        return new StateDict(name, CheckpointFormat.PyTorch, tensors);
    }

    private static Tensor FormulaValue(string key, long[] shape, int t)
    {
        using var scope = NewDisposeScope();
        var count = shape.Aggregate(1L, (a, b) => a * b);
        var values = (arange(count, dtype: ScalarType.Float64) * 0.7071 + 1.618 * t).sin().reshape(shape);
        var result = key.EndsWith("num_batches_tracked") ? zeros(shape, ScalarType.Int64)
            : key.EndsWith("running_var") ? (1 + 0.25 * values).to_type(ScalarType.Float32)
            : key.EndsWith("running_mean") ? (0.1 * values).to_type(ScalarType.Float32)
            : shape.Length == 1 ? (key.EndsWith("weight") ? 1 + 0.2 * values : 0.1 * values).to_type(ScalarType.Float32)
            : (values * Math.Sqrt(2.0 / (count / shape[0]))).to_type(ScalarType.Float32);
        return result.MoveToOuterDisposeScope();
    }
}
