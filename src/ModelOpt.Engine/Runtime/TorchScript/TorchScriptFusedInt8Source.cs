namespace ModelOpt.Engine.Runtime.TorchScript;

/// <summary>
/// Generated TorchScript for the fused oneDNN int8 model: the source of class <c>__torch__.<see cref="ClassName"/></c>,
/// the conv and linear layers in the order of its state lists (<see cref="LinearLayers"/> says which are linear), and
/// the convs whose residual add runs as their sum post-op (their own output is never rounded), the convs whose clamp runs
/// as their hardtanh post-op, and the convs that write their concatenation's qparams instead of their own.
/// </summary>
public sealed record TorchScriptFusedInt8Source(
    string ClassName, string Source, IReadOnlyList<string> Layers, IReadOnlyList<string> LinearLayers, IReadOnlyList<string> FusedConvs,
    IReadOnlyList<string> ClampFusedConvs, IReadOnlyList<string> ConcatenatedConvs);
