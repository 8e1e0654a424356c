using ModelOpt.Engine.Graph;
using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Models;

/// <summary>torchvision's <c>downsample</c>: a 1x1 conv + BN shortcut where a residual block changes stride or width, else none.</summary>
internal static class ResidualShortcut
{
    public static Sequential? Create(long inPlanes, long outPlanes, long stride, Device? device) =>
        stride != 1 || inPlanes != outPlanes
            ? Sequential(
                ("0", Conv2d(inPlanes, outPlanes, 1, stride: stride, bias: false, device: device)),
                ("1", BatchNorm2d(outPlanes, device: device)))
            : null;

    public static GraphValue Trace(Sequential? downsample, GraphBuilder graph, GraphValue input) =>
        downsample is null ? input : graph.BatchNorm((BatchNorm2d)downsample[1], graph.Conv((Conv2d)downsample[0], input));
}
