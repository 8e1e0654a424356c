using ModelOpt.Engine.Graph.FloatOps;

namespace ModelOpt.Engine.Graph;

/// <summary>
/// A constant tensor of the model read as an operand of a float op (an ONNX initializer or folded constant that is not a
/// conv or linear weight): float32, int64 or bool. Its value belongs to the graph.
/// </summary>
public sealed record ConstantNode(GraphValue Output, string Name, Tensor Value) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [];
}

/// <summary>
/// An op with no int8 kernel, described once by its <see cref="FloatOp"/>: the FP32 interpreter, the TorchScript int8
/// archive (between dequantize and quantize) and the ONNX exporter all lower it through that one definition
/// (ADR-015). <see cref="Operands"/> are graph values, constants included (as <see cref="ConstantNode"/>s).
/// </summary>
public sealed record FloatOpNode(GraphValue Output, string Name, FloatOp Op, IReadOnlyList<GraphValue> Operands) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => Operands;
}
