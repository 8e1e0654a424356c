using ModelOpt.Engine.Graph;

namespace ModelOpt.Engine.Models;

/// <summary>
/// Convolution weights in channels-last (NHWC) strides, PyTorch's <c>model.to(memory_format=torch.channels_last)</c>:
/// LibTorch's oneDNN convolutions then keep every activation NHWC and skip the layout reorders they do around NCHW
/// tensors. On the 2-core EPYC (1 thread), resnet20 went from 68 to 59 ms per eval batch of 128 and from 270 to 214 ms
/// per training step (interleaved probe; docs/BENCHMARKS.md). TorchSharp has no memory-format argument, so the strides
/// come from a permute to NHWC, a contiguous copy and the permute back; the tensor stays [N, C, H, W] to every op.
/// Training channels-last is correct but not bit-identical to NCHW: BatchNorm's channels-last kernel adds its batch
/// statistics into one float32 row per thread, position after position, and rounds about 30x more than the NCHW
/// kernel's per-channel sums (measured against float64, here and in PyTorch 1.13). A briefly trained resnet20 amplifies
/// any rounding: eval top-1 after 3 000 images, initial weights scaled by 1 +- 1e-6, NCHW 19-49 %, channels-last
/// 11-46 % (means 32 % and 28 % over ten runs each, SD 10-11). In float64 the layouts' trainings agree to 1e-14
/// (ChannelsLastTrainingTests).
/// </summary>
public static class ChannelsLast
{
    /// <summary>Re-strides every 4-D parameter of <paramref name="module"/> in place (the same tensor objects, as an optimizer expects).</summary>
    /// <remarks>
    /// A one-channel weight keeps NCHW strides here (the permute leaves it as it is); the next conv's weight makes its
    /// output channels-last. Training reads these parameters, so they are left as they were measured.
    /// </remarks>
    public static void Apply(nn.Module module) => Restride(module, weight => weight.permute(0, 2, 3, 1).contiguous().permute(0, 3, 1, 2));

    /// <summary>
    /// A copy of <paramref name="graph"/> whose conv weights are channels-last copies (it owns them; every other tensor
    /// is the source graph's): the eager interpreter of an imported ONNX model runs it, as a zoo model runs its
    /// channels-last module copy, while calibration, export and the size read the source graph.
    /// </summary>
    public static ModelGraph Apply(ModelGraph graph)
    {
        using var noGrad = no_grad();
        var restrided = new List<Tensor>();
        var nodes = graph.Nodes.Select(node =>
        {
            if (node is not Conv2dNode conv)
            {
                return node;
            }
            var weight = ToChannelsLast(conv.Weight);
            restrided.Add(weight);
            return conv with { Weight = weight };
        }).ToList();
        return new ModelGraph(nodes, graph.Input, graph.Outputs, graph.OutputNames, restrided);
    }

    /// <summary>Back to contiguous NCHW strides, in place: what checkpoint writers and the graph capture read.</summary>
    public static void Revert(nn.Module module) => Restride(module, weight => weight.contiguous());

    /// <summary>
    /// A channels-last view of a 4-D activation (a copy unless it has one channel): the eager interpreter's input, so
    /// that ops before or beside the first conv (pools, cat) run NHWC too. Other ranks come back as an alias.
    /// </summary>
    public static Tensor Input(Tensor x) => x.dim() == 4 ? ToChannelsLast(x) : x.alias();

    // The strides PyTorch's channels_last gives, set explicitly: with one channel (a stem conv's weight, a grey image)
    // the NHWC copy is the NCHW tensor itself, and a permute back would leave NCHW strides, which LibTorch reads as
    // NCHW, so the conv's output, and every pool and cat after it, would stay NCHW (inception_style: 4x ONNX Runtime).
    private static Tensor ToChannelsLast(Tensor weight)
    {
        var (channels, height, width) = (weight.shape[1], weight.shape[2], weight.shape[3]);
        using var nhwc = weight.permute(0, 2, 3, 1).contiguous();
        return nhwc.as_strided(weight.shape, [height * width * channels, 1, width * channels, channels]);
    }

    private static void Restride(nn.Module module, Func<Tensor, Tensor> layout)
    {
        using var noGrad = no_grad();
        foreach (var parameter in module.parameters().Where(p => p.dim() == 4))
        {
            using var restrided = layout(parameter.detach());
            parameter.set_(restrided);
        }
    }
}
