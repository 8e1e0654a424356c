using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Tests.Runtime;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Graph;

/// <summary>
/// The interpreters free each value after its last use: outputs stay bit-identical to a pass that keeps every value,
/// and a pass holds only the values later nodes still read.
/// </summary>
[Collection(GlobalGeneratorCollection.Name)]
public class InterpreterLastUseTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(ModelZoo.ResNet20, 1)]
    [InlineData(ModelZoo.MobileNetV2, 3)]
    public void Fp32_outputs_are_identical_to_a_pass_that_keeps_every_value(string name, long channels)
    {
        using var model = TestModels.RandomZooModel(name, channels, seed: 41);
        using var captured = GraphBuilder.Capture(model, [1, channels, 32, 32]);
        using var graph = TestModels.FoldedAndFused(captured);
        using var input = randn(4, channels, 32, 32);
        var observed = new List<GraphValue>();

        using var freed = GraphInterpreter.Run(graph, input, (value, _) => observed.Add(value));
        using var kept = KeepingEveryValue(graph, (node, value) => node is InputNode ? input.alias() : GraphInterpreter.Evaluate(node, value));

        TensorAssert.BitIdentical(kept, freed);
        Assert.Equal(graph.Nodes.Select(n => n.Output), observed);
        Assert.False(input.IsInvalid, "the caller's input was disposed");
    }

    [Theory]
    [InlineData(ModelZoo.ResNet20, 1)]
    [InlineData(ModelZoo.MobileNetV2, 3)]
    public void Fake_quantized_outputs_are_identical_to_a_pass_that_keeps_every_value(string name, long channels)
    {
        using var model = TestModels.RandomZooModel(name, channels, seed: 42);
        using var quantized = QuantizedModels.Quantize(model, [1, channels, 32, 32], QuantizedModels.Default(), batches: 2, batchSize: 8);
        using var input = randn(4, channels, 32, 32);

        using var freed = FakeQuantizedGraphInterpreter.Run(quantized, input);
        using var kept = KeepingEveryValue(quantized.Graph, (node, value) =>
        {
            var result = node is InputNode ? input.alias() : FakeQuantizedGraphInterpreter.Evaluate(quantized, node, value);
            return quantized.TryQuantizationOf(node.Output) is { } q ? FakeQuantizedGraphInterpreter.FakeQuantize(result, q) : result;
        });

        TensorAssert.BitIdentical(kept, freed);
    }

    [Fact]
    public void A_pass_holds_only_the_values_later_nodes_still_read()
    {
        using var model = TestModels.RandomZooModel(ModelZoo.ResNet18Cifar, 3, seed: 43);
        using var captured = GraphBuilder.Capture(model, [1, 3, 32, 32]);
        using var graph = TestModels.FoldedAndFused(captured);
        using var input = randn(2, 3, 32, 32);
        var nodes = graph.Nodes;
        // Live while node i runs: its own output, and every earlier value that node i or a later one reads.
        var expected = nodes.Select((node, i) => 1L + nodes.Take(i).Count(p =>
            p.Output == graph.Output || nodes.Skip(i).Any(reader => reader.Inputs.Contains(p.Output)))).ToList();
        var live = new List<long>();

        using (var scope = NewDisposeScope())
        {
            DisposeScopeManager.Statistics.Reset();
            GraphInterpreter.Run(graph, input, (_, _) => live.Add(DisposeScopeManager.Statistics.ThreadTotalLiveCount));
        }

        output.WriteLine($"{nodes.Count} nodes; most values alive at once: {live.Max()}");
        Assert.Equal(expected, live);
        Assert.True(live.Max() <= 3, $"{live.Max()} values alive at once");
    }

    /// <summary>The interpreters' loop as it was before values were freed: every value kept to the end of the pass.</summary>
    private static Tensor KeepingEveryValue(ModelGraph graph, Func<GraphNode, Func<GraphValue, Tensor>, Tensor> evaluate)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var values = new Dictionary<GraphValue, Tensor>();
        foreach (var node in graph.Nodes)
        {
            values[node.Output] = evaluate(node, v => values[v]);
        }
        return values[graph.Output].MoveToOuterDisposeScope();
    }
}
