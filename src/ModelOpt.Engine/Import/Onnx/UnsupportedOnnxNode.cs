namespace ModelOpt.Engine.Import.Onnx;

/// <summary>A node of an uploaded ONNX graph that ModelOpt cannot map, and why; or a problem of the graph itself.</summary>
/// <param name="OpType">The node's op type; for a problem that is no node's, what it concerns ("graph input", "opset", ...).</param>
/// <param name="NodeName">The node's name in the file (or <c>OpType_index</c> when the file gives none), or the input's, output's or initializer's name.</param>
/// <param name="IsNode">False for a problem of the graph's input, output, opset or an initializer: no op is at fault.</param>
public sealed record UnsupportedOnnxNode(string OpType, string NodeName, string Reason, bool IsNode = true);
