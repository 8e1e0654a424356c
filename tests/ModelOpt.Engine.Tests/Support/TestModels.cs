using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization.Fusion;
using TorchSharp.Modules;

namespace ModelOpt.Engine.Tests.Support;

internal static class TestModels
{
    /// <summary>A 10-class zoo model seeded with <paramref name="seed"/>, with random BatchNorm statistics, in eval mode.</summary>
    public static ZooModel RandomZooModel(string name, long channels, int seed)
    {
        manual_seed(seed);
        var model = ModelZoo.Create(name, channels, 10);
        RandomizeBatchNorm(model);
        model.eval();
        return model;
    }

    /// <summary>Gives every BatchNorm2d non-trivial running statistics and affine parameters, so folding changes the convs.</summary>
    public static void RandomizeBatchNorm(nn.Module model)
    {
        using var _ = no_grad();
        foreach (var (_, module) in model.named_modules())
        {
            if (module is BatchNorm2d bn)
            {
                bn.running_mean!.copy_(randn_like(bn.running_mean) * 0.1);
                bn.running_var!.copy_(rand_like(bn.running_var) + 0.5);
                bn.weight!.copy_(rand_like(bn.weight) + 0.5);
                bn.bias!.copy_(randn_like(bn.bias) * 0.1);
            }
        }
    }

    /// <summary>The FP32 graph quantization starts from: BatchNorm folded into the convs, ReLUs fused into convs and adds.</summary>
    public static ModelGraph FoldedAndFused(ModelGraph captured)
    {
        using var folded = GraphFusion.FoldBatchNorm(captured);
        return GraphFusion.FuseReLU(folded);
    }
}
