namespace ModelOpt.Engine.Import.Onnx;

/// <summary>A node of an uploaded ONNX graph that ModelOpt cannot map, and why.</summary>
/// <param name="NodeName">The node's name in the file (or <c>OpType_index</c> when the file gives none).</param>
public sealed record UnsupportedOnnxNode(string OpType, string NodeName, string Reason);
