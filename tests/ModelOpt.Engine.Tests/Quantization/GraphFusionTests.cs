using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization.Fusion;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Quantization;

[Collection(GlobalGeneratorCollection.Name)]
public class GraphFusionTests
{
    [Theory]
    [InlineData(ModelZoo.ResNet20, 1)]
    [InlineData(ModelZoo.ResNet18Cifar, 3)]
    public void Captured_and_folded_graphs_match_the_eager_model(string name, long channels)
    {
        manual_seed(7);
        using var model = ModelZoo.Create(name, channels, 10);
        TestModels.RandomizeBatchNorm(model);
        model.eval();
        using var input = randn(4, channels, 32, 32);
        using var expected = model.call(input);

        using var captured = GraphBuilder.Capture(model, [1, channels, 32, 32]);
        using var folded = GraphFusion.FoldBatchNorm(captured);
        using var fused = GraphFusion.FuseReLU(folded);
        using var actual = GraphInterpreter.Run(fused, input);
        using var unfolded = GraphInterpreter.Run(captured, input);

        Assert.True(allclose(unfolded, expected, rtol: 1e-5, atol: 1e-5));

        Assert.Empty(fused.Nodes.OfType<BatchNorm2dNode>());
        Assert.Empty(fused.Nodes.OfType<ReLUNode>());
        Assert.All(fused.Nodes.OfType<AddNode>(), add => Assert.True(add.Relu));
        Assert.True(allclose(actual, expected, rtol: 1e-4, atol: 1e-4), $"max diff {(actual - expected).abs().max().item<float>()}");
    }

    [Fact]
    public void Fold_formula_matches_batch_norm_applied_after_the_conv()
    {
        manual_seed(3);
        using var w = randn(4, 2, 3, 3);
        using var mean = randn(4);
        using var var_ = rand(4) + 0.5;
        using var gamma = randn(4);
        using var beta = randn(4);
        using var x = randn(2, 2, 8, 8);
        using var reference = nn.functional.batch_norm(nn.functional.conv2d(x, w), mean, var_, gamma, beta, training: false, eps: 1e-5);

        var (fw, fb) = ConvBnFolding.FuseConvBnWeights(w, null, mean, var_, 1e-5, gamma, beta);
        using (fw)
        using (fb)
        using (var folded = nn.functional.conv2d(x, fw, fb))
        {
            Assert.True(allclose(folded, reference, rtol: 1e-5, atol: 1e-5));
        }
    }
}
