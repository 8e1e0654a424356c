using ModelOpt.Engine.Graph;

namespace ModelOpt.Engine.Quantization.Quantizers;

/// <summary>What a quantizer asks prepare to observe: activation values and the names of weighted nodes.</summary>
public sealed record GraphAnnotation(IReadOnlyList<GraphValue> ObservedValues, IReadOnlyList<string> WeightedNodes);
