using Onnx;

namespace ModelOpt.Engine.Export.Onnx;

/// <summary>One ONNX node of a chain: its data input is the previous node's output, followed by <see cref="ExtraInputs"/>.</summary>
internal sealed record OnnxOp(string OpType, IReadOnlyList<string> ExtraInputs, IReadOnlyList<AttributeProto> Attributes)
{
    public OnnxOp(string opType, params string[] extraInputs) : this(opType, extraInputs, []) { }
}
