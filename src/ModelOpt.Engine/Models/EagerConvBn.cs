using TorchSharp.Modules;

namespace ModelOpt.Engine.Models;

/// <summary>
/// conv → BN in eager mode with the conv's output released as soon as BN has read it, as PyTorch's reference counting
/// does. Inside a block's dispose scope every intermediate would otherwise stay allocated until the block returns, a
/// larger working set than PyTorch's for the same LibTorch kernels (issue 14). Autograd keeps what backward needs
/// through its own references.
/// </summary>
internal static class EagerConvBn
{
    public static Tensor Run(Conv2d conv, BatchNorm2d bn, Tensor input)
    {
        using var convolved = conv.call(input);
        return bn.call(convolved);
    }
}
