namespace ModelOpt.Engine.Checkpoints;

/// <summary>Byte sizes of the dtypes checkpoints may hold, checked in managed code before anything native is allocated.</summary>
internal static class TensorLayout
{
    public const int MaxDimensions = 16;

    public static bool TryElementSize(ScalarType dtype, out int size)
    {
        size = dtype switch
        {
            ScalarType.Byte or ScalarType.Int8 or ScalarType.Bool => 1,
            ScalarType.Int16 or ScalarType.Float16 or ScalarType.BFloat16 => 2,
            ScalarType.Int32 or ScalarType.Float32 => 4,
            ScalarType.Int64 or ScalarType.Float64 or ScalarType.ComplexFloat32 => 8,
            ScalarType.ComplexFloat64 => 16,
            _ => 0,
        };
        return size > 0;
    }

    /// <summary>Bytes a contiguous tensor of this shape and dtype occupies; -1 when the shape is invalid or overflows.</summary>
    public static long ByteCount(long[] shape, ScalarType dtype)
    {
        if (!TryElementSize(dtype, out var size) || shape.Length > MaxDimensions || shape.Any(d => d < 0))
        {
            return -1;
        }
        try
        {
            return checked(shape.Aggregate(1L, (n, d) => n * d) * size);
        }
        catch (OverflowException)
        {
            return -1;
        }
    }

    public static Tensor FromBytes(byte[] data, long[] shape, ScalarType dtype)
    {
        var tensor = empty(shape, dtype);
        tensor.bytes = data;
        return tensor;
    }
}
