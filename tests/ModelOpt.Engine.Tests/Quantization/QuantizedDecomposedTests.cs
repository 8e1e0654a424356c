using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Quantization;

[Collection(GlobalGeneratorCollection.Name)]
public class QuantizedDecomposedTests
{
    [Theory]
    [InlineData(ScalarType.Byte, ScalarType.QUInt8, 0.05, 120L, 0L, 255L)]
    [InlineData(ScalarType.Int8, ScalarType.QInt8, 0.02, 3L, -128L, 127L)]
    public void QuantizePerTensor_matches_torch_quantize_per_tensor_int_repr(
        ScalarType dtype, ScalarType qdtype, double scale, long zeroPoint, long quantMin, long quantMax)
    {
        manual_seed(11);
        using var x = randn(4, 3, 8, 8) * 3;
        using var reference = quantize_per_tensor(x, scale, zeroPoint, qdtype);
        using var expected = reference.int_repr();

        using var actual = QuantizedDecomposed.QuantizePerTensor(x, scale, zeroPoint, quantMin, quantMax, dtype);
        using var back = QuantizedDecomposed.DequantizePerTensor(actual, scale, zeroPoint, quantMin, quantMax, dtype);
        using var expectedBack = reference.dequantize();

        Assert.Equal(dtype, actual.dtype);
        Assert.True(actual.eq(expected).all().item<bool>());
        Assert.True(allclose(back, expectedBack));
    }

    [Theory]
    [InlineData(ScalarType.Byte, ScalarType.QUInt8, 0.05, 120L, 0L, 255L)]
    [InlineData(ScalarType.Int8, ScalarType.QInt8, 0.013, 0L, -128L, 127L)]
    [InlineData(ScalarType.Byte, ScalarType.QUInt8, 3.7e-4, 0L, 0L, 255L)]
    public void FakeQuantize_equals_dequantize_of_quantize_bit_for_bit(
        ScalarType dtype, ScalarType qdtype, double scale, long zeroPoint, long quantMin, long quantMax)
    {
        manual_seed(13);
        using var scope = NewDisposeScope();
        // Spread values, values far outside the range, and exact half steps (where rounding ties to even).
        var halfSteps = (arange(quantMin - 40, quantMax + 40, dtype: ScalarType.Float32) - zeroPoint + 0.5f) * (float)scale;
        var x = cat([(randn(4, 3, 8, 8) * (float)(scale * 200)).flatten(), halfSteps, tensor(new[] { 1e30f, -1e30f, 0f })]);
        var expected = QuantizedDecomposed.DequantizePerTensor(
            QuantizedDecomposed.QuantizePerTensor(x, scale, zeroPoint, quantMin, quantMax, dtype), scale, zeroPoint, quantMin, quantMax, dtype);

        var actual = FakeQuantizedGraphInterpreter.FakeQuantize(x, new ActivationQuantization(scale, zeroPoint, qdtype, quantMin, quantMax));

        Assert.Equal(0L, actual.ne(expected).sum().item<long>());
    }

    [Fact]
    public void QuantizePerChannel_matches_torch_quantize_per_channel_and_round_trips_within_half_a_scale()
    {
        manual_seed(12);
        using var w = randn(6, 3, 3, 3);
        using var scales = w.abs().amax([1, 2, 3]).to_type(ScalarType.Float64) / 127.5;
        using var zeroPoints = zeros(6, dtype: ScalarType.Int64);
        using var reference = quantize_per_channel(w, scales, zeroPoints, 0, ScalarType.QInt8);
        using var expected = reference.int_repr();

        using var actual = QuantizedDecomposed.QuantizePerChannel(w, scales, zeroPoints, 0, -128, 127, ScalarType.Int8);
        using var back = QuantizedDecomposed.DequantizePerChannel(actual, scales, zeroPoints, 0, -128, 127, ScalarType.Int8);

        Assert.True(actual.eq(expected).all().item<bool>());
        using var error = (back - w).abs();
        using var bound = scales.reshape(-1, 1, 1, 1) / 2 + 1e-7;
        Assert.True((error <= bound).all().item<bool>());
    }

    [Fact]
    public void Values_outside_the_range_are_clamped_to_quant_min_and_quant_max()
    {
        using var x = tensor(new[] { -100f, 0f, 100f });

        using var q = QuantizedDecomposed.QuantizePerTensor(x, 0.1, 10, 0, 200, ScalarType.Byte);

        Assert.Equal(new byte[] { 0, 10, 200 }, q.data<byte>().ToArray());
    }

    [Fact]
    public void Wrong_dtypes_and_ranges_are_rejected()
    {
        using var doubles = tensor(new[] { 1.0 });
        using var bytes = tensor(new byte[] { 1 });

        Assert.Throws<ArgumentException>(() => QuantizedDecomposed.QuantizePerTensor(doubles, 0.1, 0, 0, 255, ScalarType.Byte));
        Assert.Throws<ArgumentException>(() => QuantizedDecomposed.DequantizePerTensor(bytes, 0.1, 0, -128, 127, ScalarType.Int8));
        Assert.Throws<ArgumentOutOfRangeException>(() => QuantizedDecomposed.DequantizePerTensor(bytes, 0.1, 0, 0, 256, ScalarType.Byte));
        Assert.Throws<ArgumentException>(() => QuantizedDecomposed.QuantizePerTensor(doubles.to_type(ScalarType.Float32), 0.1, 0, 0, 255, ScalarType.Float32));
    }
}
