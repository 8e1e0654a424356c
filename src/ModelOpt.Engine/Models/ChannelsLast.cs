namespace ModelOpt.Engine.Models;

/// <summary>
/// Convolution weights in channels-last (NHWC) strides, PyTorch's <c>model.to(memory_format=torch.channels_last)</c>:
/// LibTorch's oneDNN convolutions then keep every activation NHWC and skip the layout reorders they do around NCHW
/// tensors. On the 2-core EPYC (1 thread), resnet20 went from 68 to 59 ms per eval batch of 128 (interleaved probe;
/// docs/BENCHMARKS.md). TorchSharp has no memory-format argument, so the strides come from a permute to NHWC, a
/// contiguous copy and the permute back; the tensor stays [N, C, H, W] to every op. For inference only: training
/// channels-last made steps 21 % faster, but its gradients already differed from NCHW's after one step (resnet20's
/// conv1 weight sum 1.38555 against 1.38274; BatchNorm's statistics alone agree) and the trained models scored worse
/// in eval (11-21 % against 31 %, same seed and data), so training stays NCHW.
/// </summary>
public static class ChannelsLast
{
    /// <summary>Re-strides every 4-D parameter of <paramref name="module"/> in place.</summary>
    public static void Apply(nn.Module module)
    {
        using var noGrad = no_grad();
        foreach (var parameter in module.parameters().Where(p => p.dim() == 4))
        {
            using var restrided = parameter.detach().permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2);
            parameter.set_(restrided);
        }
    }
}
