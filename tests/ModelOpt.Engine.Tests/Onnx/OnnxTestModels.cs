using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization.Fusion;
using TorchSharp.Modules;

namespace ModelOpt.Engine.Tests.Onnx;

/// <summary>Zoo models with random weights and random BN statistics (so that folding matters), in eval mode.</summary>
internal static class OnnxTestModels
{
    public const long ImageSize = 32;

    public static CifarResNet Create(string name, long channels, int seed)
    {
        manual_seed(seed);
        var model = ModelZoo.Create(name, channels, 10);
        using (no_grad())
        {
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
        model.eval();
        return model;
    }

    public static ModelGraph Capture(CifarResNet model, long channels) => GraphBuilder.Capture(model, [1, channels, ImageSize, ImageSize]);

    public static ModelGraph FoldedAndFused(ModelGraph captured)
    {
        using var folded = GraphFusion.FoldBatchNorm(captured);
        return GraphFusion.FuseReLU(folded);
    }

    public static Tensor Batch(long size, long channels) => randn(size, channels, ImageSize, ImageSize);
}
