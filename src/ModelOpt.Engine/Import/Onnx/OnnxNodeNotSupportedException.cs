namespace ModelOpt.Engine.Import.Onnx;

/// <summary>Thrown by a converter for a node it recognises but cannot map as configured; the importer names the node.</summary>
internal sealed class OnnxNodeNotSupportedException(string reason) : Exception(reason);
