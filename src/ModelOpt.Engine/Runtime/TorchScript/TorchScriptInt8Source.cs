namespace ModelOpt.Engine.Runtime.TorchScript;

/// <summary>
/// Generated TorchScript for an int8 model: the source of class <c>__torch__.<see cref="ClassName"/></c>, the
/// empty-list attributes its <c>setup</c> fills with packed weights, and the order of <c>setup</c>'s arguments:
/// one int8 weight, scales and zero points per entry of <see cref="Layers"/>, and a bias per entry of
/// <see cref="BiasedLayers"/>, then the float tensors of the layers kept FP32, named <c>layer.weight</c> / <c>layer.bias</c>
/// in <see cref="FloatTensors"/>.
/// </summary>
public sealed record TorchScriptInt8Source(
    string ClassName,
    string Source,
    IReadOnlyList<string> ListAttributes,
    IReadOnlyList<string> Layers,
    IReadOnlyList<string> BiasedLayers,
    IReadOnlyList<string> FloatTensors);
