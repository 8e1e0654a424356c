using TorchSharp.Modules;

namespace ModelOpt.Engine.Tests.Support;

internal static class TestModels
{
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
}
