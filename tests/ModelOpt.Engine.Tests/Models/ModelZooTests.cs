using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;

namespace ModelOpt.Engine.Tests.Models;

public class ModelZooTests
{
    [Theory]
    [InlineData(ModelZoo.ResNet18Cifar, 3, 10, 11_173_962)]
    [InlineData(ModelZoo.ResNet18Cifar, 1, 10, 11_172_810)]
    [InlineData(ModelZoo.ResNet20, 1, 10, 272_186)]
    [InlineData(ModelZoo.ResNet20, 3, 10, 272_474)]
    public void Parameter_count_matches_the_pytorch_reference(string name, long channels, long classes, long expected)
    {
        Assert.Equal(expected, ModelZoo.Get(name).ParameterCount(channels, classes));
    }

    [Theory]
    [InlineData(ModelZoo.ResNet18Cifar, 3, 10)]
    [InlineData(ModelZoo.ResNet20, 1, 7)]
    public void Forward_returns_one_logit_per_class(string name, long channels, long classes)
    {
        using var model = ModelZoo.Create(name, channels, classes);
        model.eval();
        using var input = randn(2, channels, 32, 32);
        using var output = model.call(input);
        Assert.Equal([2, classes], output.shape);
    }

    [Fact]
    public void State_dict_uses_torchvision_names()
    {
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        var keys = model.state_dict().Keys.ToHashSet();
        Assert.Contains("conv1.weight", keys);
        Assert.Contains("bn1.running_mean", keys);
        Assert.Contains("layer2.0.downsample.0.weight", keys);
        Assert.Contains("layer3.2.bn2.num_batches_tracked", keys);
        Assert.Contains("fc.bias", keys);
        Assert.Equal(128, keys.Count);
    }

    [Fact]
    public void Captured_graph_names_every_conv_and_bn_after_its_module()
    {
        using var model = ModelZoo.Create(ModelZoo.ResNet20, 1, 10);
        using var graph = GraphBuilder.Capture(model, [1, 1, 32, 32]);
        Assert.Equal(21, graph.Nodes.OfType<Conv2dNode>().Count());
        Assert.Equal(21, graph.Nodes.OfType<BatchNorm2dNode>().Count());
        Assert.Equal(9, graph.Nodes.OfType<AddNode>().Count());
        Assert.Contains(graph.Nodes.OfType<Conv2dNode>(), c => c.Name == "layer3.0.downsample.0");
        Assert.Equal("fc", graph.Nodes.OfType<LinearNode>().Single().Name);
    }

    [Fact]
    public void Unknown_model_lists_the_known_ones()
    {
        var error = Assert.Throws<UnknownModelException>(() => ModelZoo.Get("vgg16"));
        Assert.Contains("resnet20", error.Message);
    }

    [Fact]
    public void Engine_tunes_glibc_allocator_on_load()
    {
        Assert.True(EngineEnvironment.HeapAllocatorTuned);
    }
}
