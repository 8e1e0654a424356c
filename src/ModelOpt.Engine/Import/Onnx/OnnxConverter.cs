using Onnx;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>Maps one ONNX node onto the conversion: graph nodes for data, folded tensors for constants.</summary>
/// <exception cref="OnnxNodeNotSupportedException">The node uses a setting ModelOpt does not map.</exception>
internal delegate void OnnxConverter(OnnxConversion conversion, NodeProto node);
