namespace ModelOpt.Engine.Import.Onnx;

/// <summary>The file is not a readable ONNX model: truncated, corrupt, or something else entirely.</summary>
public sealed class OnnxFormatException(string sourceName, string reason, Exception? innerException = null)
    : Exception($"'{sourceName}' is not a readable ONNX model: {reason}", innerException);
