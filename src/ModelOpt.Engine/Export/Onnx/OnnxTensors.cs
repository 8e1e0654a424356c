using Google.Protobuf;
using Onnx;
using DataType = Onnx.TensorProto.Types.DataType;

namespace ModelOpt.Engine.Export.Onnx;

/// <summary>TorchSharp tensors as ONNX initializers, stored as little-endian raw data.</summary>
internal static class OnnxTensors
{
    public static TensorProto FromTensor(string name, Tensor tensor)
    {
        var type = ToOnnx(tensor.dtype);
        using var contiguous = tensor.detach().cpu().contiguous();
        var proto = new TensorProto { Name = name, DataType = (int)type, RawData = ByteString.CopyFrom(contiguous.bytes) };
        proto.Dims.AddRange(tensor.shape);
        return proto;
    }

    public static DataType ToOnnx(ScalarType dtype) => dtype switch
    {
        ScalarType.Float32 => DataType.Float,
        ScalarType.Int8 => DataType.Int8,
        ScalarType.Byte => DataType.Uint8,
        ScalarType.Int32 => DataType.Int32,
        ScalarType.Int64 => DataType.Int64,
        ScalarType.Bool => DataType.Bool,
        _ => throw new NotSupportedException($"No ONNX initializer type for {dtype}."),
    };
}
