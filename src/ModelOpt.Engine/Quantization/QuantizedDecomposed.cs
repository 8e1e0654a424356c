namespace ModelOpt.Engine.Quantization;

/// <summary>
/// Reference quantize / dequantize ops, as <c>torch/ao/quantization/fx/_decomposed.py</c>. The qparams are arguments, not
/// stored in the tensor: quantized values are plain integer tensors (<c>int_repr</c>), so every backend and the
/// fake-quant simulation share one definition of rounding and clamping.
/// </summary>
/// <remarks>
/// quantize: q = clamp(round(x * (1 / scale)) + zero_point, quant_min, quant_max), cast to dtype (round half to even).
/// dequantize: x = (q.to(float32) - zero_point) * scale.
/// Per channel, scale and zero_point are vectors along <c>axis</c>.
/// </remarks>
public static class QuantizedDecomposed
{
    /// <summary>The integer range of each dtype a quantized value can be stored in (<c>_DTYPE_TO_QVALUE_BOUNDS</c>).</summary>
    public static IReadOnlyDictionary<ScalarType, (long Min, long Max)> DtypeBounds { get; } = new Dictionary<ScalarType, (long, long)>
    {
        [ScalarType.Byte] = (byte.MinValue, byte.MaxValue),
        [ScalarType.Int8] = (sbyte.MinValue, sbyte.MaxValue),
        [ScalarType.Int16] = (short.MinValue, short.MaxValue),
        [ScalarType.Int32] = (int.MinValue, int.MaxValue),
    };

    public static Tensor QuantizePerTensor(Tensor input, double scale, long zeroPoint, long quantMin, long quantMax, ScalarType dtype)
    {
        CheckFloatInput(input);
        CheckRange(quantMin, quantMax, dtype);
        using var scope = NewDisposeScope();
        var q = (input.detach() * (1.0 / scale)).round_().add_(zeroPoint).clamp_(quantMin, quantMax);
        return q.to_type(dtype).MoveToOuterDisposeScope();
    }

    public static Tensor DequantizePerTensor(Tensor input, double scale, long zeroPoint, long quantMin, long quantMax, ScalarType dtype)
    {
        CheckQuantizedInput(input, dtype);
        CheckRange(quantMin, quantMax, dtype);
        using var scope = NewDisposeScope();
        return input.to_type(ScalarType.Float32).sub_(zeroPoint).mul_(scale).MoveToOuterDisposeScope();
    }

    public static Tensor QuantizePerChannel(
        Tensor input, Tensor scales, Tensor zeroPoints, long axis, long quantMin, long quantMax, ScalarType dtype)
    {
        CheckFloatInput(input);
        CheckRange(quantMin, quantMax, dtype);
        using var scope = NewDisposeScope();
        var shape = ChannelShape(input, scales, zeroPoints, axis);
        // Scales are float32 in the kernels (as in torch.quantize_per_channel), so the product is rounded in float32.
        var q = (input.detach() * (1.0 / scales.to_type(ScalarType.Float32)).reshape(shape)).round_()
            .add_(zeroPoints.reshape(shape)).clamp_(quantMin, quantMax);
        return q.to_type(dtype).MoveToOuterDisposeScope();
    }

    public static Tensor DequantizePerChannel(
        Tensor input, Tensor scales, Tensor zeroPoints, long axis, long quantMin, long quantMax, ScalarType dtype)
    {
        CheckQuantizedInput(input, dtype);
        CheckRange(quantMin, quantMax, dtype);
        using var scope = NewDisposeScope();
        var shape = ChannelShape(input, scales, zeroPoints, axis);
        var x = (input.to_type(ScalarType.Float32) - zeroPoints.reshape(shape)) * scales.reshape(shape);
        return x.to_type(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    private static long[] ChannelShape(Tensor input, Tensor scales, Tensor zeroPoints, long axis)
    {
        if (axis < 0 || axis >= input.dim())
        {
            throw new ArgumentOutOfRangeException(nameof(axis), axis, $"Channel axis must lie in [0, {input.dim()}) for a {input.dim()}-d input.");
        }
        var channels = input.shape[axis];
        if (scales.numel() != channels || zeroPoints.numel() != channels)
        {
            throw new ArgumentException(
                $"Expected {channels} scales and zero points along axis {axis}, got {scales.numel()} and {zeroPoints.numel()}.", nameof(scales));
        }
        var shape = Enumerable.Repeat(1L, (int)input.dim()).ToArray();
        shape[axis] = channels;
        return shape;
    }

    private static void CheckFloatInput(Tensor input)
    {
        if (input.dtype != ScalarType.Float32)
        {
            throw new ArgumentException($"Expected a float32 input to quantize, got {input.dtype}.", nameof(input));
        }
    }

    private static void CheckQuantizedInput(Tensor input, ScalarType dtype)
    {
        if (input.dtype != dtype)
        {
            throw new ArgumentException($"Expected a {dtype} input to dequantize, got {input.dtype}.", nameof(input));
        }
    }

    private static void CheckRange(long quantMin, long quantMax, ScalarType dtype)
    {
        if (!DtypeBounds.TryGetValue(dtype, out var bounds))
        {
            throw new ArgumentException($"Unsupported quantized dtype {dtype}.", nameof(dtype));
        }
        if (quantMin < bounds.Min || quantMax > bounds.Max || quantMin > quantMax)
        {
            throw new ArgumentOutOfRangeException(
                nameof(quantMin), $"[{quantMin}, {quantMax}] is not a valid range within {dtype}'s [{bounds.Min}, {bounds.Max}].");
        }
    }
}
