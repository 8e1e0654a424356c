using System.Runtime.InteropServices;
using Onnx;
using DataLocation = Onnx.TensorProto.Types.DataLocation;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>ONNX initializers and Constant values as TorchSharp tensors: float, double (read as float32) and integer types.</summary>
internal static class OnnxTensorReader
{
    public static Tensor Read(TensorProto proto)
    {
        if (proto.DataLocation == DataLocation.External)
        {
            throw new OnnxNodeNotSupportedException($"tensor '{proto.Name}' keeps its data in an external file; export it into one .onnx file.");
        }
        var shape = proto.Dims.ToArray();
        if (shape.Any(d => d < 0))
        {
            throw new OnnxNodeNotSupportedException($"tensor '{proto.Name}' has a negative dimension.");
        }
        var count = shape.Aggregate(1L, (a, b) => checked(a * b));
        var type = (DataType)proto.DataType;
        var raw = proto.RawData.Span;
        using var scope = NewDisposeScope();
        var result = type switch
        {
            DataType.Float => tensor(raw.Length > 0 ? MemoryMarshal.Cast<byte, float>(raw).ToArray() : [.. proto.FloatData]),
            DataType.Double => tensor(raw.Length > 0 ? MemoryMarshal.Cast<byte, double>(raw).ToArray() : [.. proto.DoubleData]).to_type(ScalarType.Float32),
            DataType.Int64 => tensor(raw.Length > 0 ? MemoryMarshal.Cast<byte, long>(raw).ToArray() : [.. proto.Int64Data]),
            DataType.Int32 => tensor(raw.Length > 0 ? MemoryMarshal.Cast<byte, int>(raw).ToArray() : [.. proto.Int32Data]).to_type(ScalarType.Int64),
            _ => throw new OnnxNodeNotSupportedException($"tensor '{proto.Name}' has data type {type}; ModelOpt reads float, double, int32 and int64."),
        };
        if (result.numel() != count)
        {
            throw new OnnxNodeNotSupportedException($"tensor '{proto.Name}' holds {result.numel()} values for a shape of {count} (truncated?).");
        }
        return result.reshape(shape).MoveToOuterDisposeScope();
    }
}
