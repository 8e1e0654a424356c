using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Models;

[Collection(GlobalGeneratorCollection.Name)]
public class ChannelsLastGraphTests
{
    [Fact]
    public void The_channels_last_copy_restrides_only_its_own_conv_weights_and_computes_the_same_outputs()
    {
        manual_seed(43);
        using var weight = randn(8, 4, 3, 3);
        using var bias = randn(8);
        var (x, conv, pool) = (new GraphValue(0), new GraphValue(1), new GraphValue(2));
        using var graph = new ModelGraph(
            [new InputNode(x, [1, 4, 8, 8]), new Conv2dNode(conv, "c", x, weight, bias, [1, 1], [1, 1], [1, 1], 1), new MaxPool2dNode(pool, conv, [3, 3], [1, 1], [1, 1])],
            x, pool);
        using var input = randn(16, 4, 8, 8);
        using var expected = GraphInterpreter.Run(graph, input);

        Tensor actual;
        using (var channelsLast = ChannelsLast.Apply(graph))
        {
            var restrided = Assert.IsType<Conv2dNode>(channelsLast.Nodes[1]).Weight;
            Assert.Equal([36L, 1, 12, 4], restrided.stride());
            Assert.Same(bias, ((Conv2dNode)channelsLast.Nodes[1]).Bias);
            actual = GraphInterpreter.Run(channelsLast, input);
        }

        // The source graph's weight is untouched and still usable once the copy is disposed.
        Assert.Equal([36L, 9, 3, 1], weight.stride());
        using (actual)
        using (var again = GraphInterpreter.Run(graph, input))
        {
            Assert.True(actual.allclose(expected, rtol: 1e-5, atol: 1e-5), $"max difference {(actual - expected).abs().max().item<float>()}");
            Assert.True(again.eq(expected).all().item<bool>());
        }
    }
}
