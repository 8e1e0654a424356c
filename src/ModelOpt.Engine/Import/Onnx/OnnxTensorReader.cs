using System.Runtime.InteropServices;
using Onnx;
using DataLocation = Onnx.TensorProto.Types.DataLocation;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// ONNX initializers and Constant values as TorchSharp tensors of three types: every floating type is read as float32,
/// every integer type as int64 (shape arithmetic and indices), bool as bool.
/// </summary>
internal static class OnnxTensorReader
{
    public static Tensor Read(TensorProto proto) =>
        TryRead(proto, out var tensor, out var reason) ? tensor : throw new OnnxNodeNotSupportedException(reason);

    public static bool TryRead(TensorProto proto, out Tensor result, out string reason)
    {
        result = null!;
        reason = "";
        if (proto.DataLocation == DataLocation.External)
        {
            reason = $"tensor '{proto.Name}' keeps its data in an external file; export it into one .onnx file.";
            return false;
        }
        var shape = proto.Dims.ToArray();
        if (shape.Any(d => d < 0))
        {
            reason = $"tensor '{proto.Name}' has a negative dimension.";
            return false;
        }
        var count = shape.Aggregate(1L, (a, b) => checked(a * b));
        var type = (DataType)proto.DataType;
        var raw = proto.RawData.Span;
        var hasRaw = raw.Length > 0 || (count > 0 && proto.FloatData.Count + proto.DoubleData.Count + proto.Int32Data.Count + proto.Int64Data.Count + proto.Uint64Data.Count == 0);
        using var scope = NewDisposeScope();
        // int32_data holds every type of 32 bits or fewer (bool, int8/16, uint8/16, float16 and bfloat16 as bits).
        Tensor? read = type switch
        {
            DataType.Float => tensor(hasRaw ? MemoryMarshal.Cast<byte, float>(raw).ToArray() : [.. proto.FloatData]),
            DataType.Double => tensor(hasRaw ? MemoryMarshal.Cast<byte, double>(raw).ToArray() : [.. proto.DoubleData]).to_type(ScalarType.Float32),
            DataType.Float16 => tensor(hasRaw ? MemoryMarshal.Cast<byte, Half>(raw).ToArray().Select(h => (float)h).ToArray()
                : proto.Int32Data.Select(b => (float)BitConverter.UInt16BitsToHalf((ushort)b)).ToArray()),
            DataType.Bfloat16 => tensor((hasRaw ? MemoryMarshal.Cast<byte, ushort>(raw).ToArray() : proto.Int32Data.Select(b => (ushort)b).ToArray())
                .Select(b => BitConverter.Int32BitsToSingle(b << 16)).ToArray()),
            DataType.Int64 => tensor(hasRaw ? MemoryMarshal.Cast<byte, long>(raw).ToArray() : [.. proto.Int64Data]),
            DataType.Int32 => tensor(hasRaw ? MemoryMarshal.Cast<byte, int>(raw).ToArray().Select(v => (long)v).ToArray() : proto.Int32Data.Select(v => (long)v).ToArray()),
            DataType.Int16 => tensor(hasRaw ? MemoryMarshal.Cast<byte, short>(raw).ToArray().Select(v => (long)v).ToArray() : proto.Int32Data.Select(v => (long)(short)v).ToArray()),
            DataType.Int8 => tensor(hasRaw ? MemoryMarshal.Cast<byte, sbyte>(raw).ToArray().Select(v => (long)v).ToArray() : proto.Int32Data.Select(v => (long)(sbyte)v).ToArray()),
            DataType.Uint8 => tensor(hasRaw ? raw.ToArray().Select(v => (long)v).ToArray() : proto.Int32Data.Select(v => (long)(byte)v).ToArray()),
            DataType.Uint16 => tensor(hasRaw ? MemoryMarshal.Cast<byte, ushort>(raw).ToArray().Select(v => (long)v).ToArray() : proto.Int32Data.Select(v => (long)(ushort)v).ToArray()),
            DataType.Uint32 => tensor(hasRaw ? MemoryMarshal.Cast<byte, uint>(raw).ToArray().Select(v => (long)v).ToArray() : proto.Uint64Data.Select(v => (long)v).ToArray()),
            DataType.Uint64 => tensor(hasRaw ? MemoryMarshal.Cast<byte, ulong>(raw).ToArray().Select(v => unchecked((long)v)).ToArray() : proto.Uint64Data.Select(v => unchecked((long)v)).ToArray()),
            DataType.Bool => tensor(hasRaw ? raw.ToArray().Select(v => v != 0).ToArray() : proto.Int32Data.Select(v => v != 0).ToArray()),
            _ => null,
        };
        if (read is null)
        {
            reason = $"tensor '{proto.Name}' has data type {type}; ModelOpt reads numeric and bool tensors.";
            return false;
        }
        if (read.numel() != count)
        {
            reason = $"tensor '{proto.Name}' holds {read.numel()} values for a shape of {count} (truncated?).";
            return false;
        }
        result = read.reshape(shape).MoveToOuterDisposeScope();
        return true;
    }

    /// <summary>A tensor given by the caller in the importer's three types (float32, int64, bool).</summary>
    public static Tensor Normalize(Tensor value) =>
        value.dtype == ScalarType.Bool ? value.alias()
        : value.is_floating_point() ? value.to_type(ScalarType.Float32)
        : value.to_type(ScalarType.Int64);
}
