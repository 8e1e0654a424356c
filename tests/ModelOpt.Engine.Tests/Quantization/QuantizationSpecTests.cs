using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Observers;
using ModelOpt.Engine.Quantization.Quantizers;

namespace ModelOpt.Engine.Tests.Quantization;

public class QuantizationSpecTests
{
    [Fact]
    public void Range_defaults_to_the_dtype_bounds()
    {
        var spec = new QuantizationSpec(ScalarType.Int8, QScheme.PerTensorSymmetric);

        Assert.Equal((-128L, 127L), (spec.QuantMin, spec.QuantMax));
        Assert.False(spec.HasCustomizedQRange);
    }

    [Fact]
    public void Invalid_specs_are_rejected_with_precise_messages()
    {
        Assert.Contains("Unsupported quantized dtype Float32",
            Assert.Throws<ArgumentException>(() => new QuantizationSpec(ScalarType.Float32, QScheme.PerTensorAffine)).Message);
        Assert.Contains("quant_min must lie in [0, 255]",
            Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationSpec(ScalarType.Byte, QScheme.PerTensorAffine, quantMin: -1)).Message);
        Assert.Contains("quant_max must lie in [-128, 127]",
            Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationSpec(ScalarType.Int8, QScheme.PerTensorAffine, quantMax: 255)).Message);
        Assert.Contains("quant_min (10) must be less than quant_max (10)",
            Assert.Throws<ArgumentException>(() => new QuantizationSpec(ScalarType.Byte, QScheme.PerTensorAffine, 10, 10)).Message);
        Assert.Contains("needs a channel axis",
            Assert.Throws<ArgumentException>(() => new QuantizationSpec(ScalarType.Int8, QScheme.PerChannelSymmetric)).Message);
        Assert.Contains("ch_axis must be non-negative",
            Assert.Throws<ArgumentOutOfRangeException>(() => new QuantizationSpec(ScalarType.Int8, QScheme.PerChannelSymmetric, chAxis: -1)).Message);
        Assert.Contains("Dynamic quantization is not supported",
            Assert.Throws<ArgumentException>(() => new QuantizationSpec(ScalarType.Byte, QScheme.PerTensorAffine, isDynamic: true)).Message);
    }

    [Fact]
    public void Observers_reject_specs_of_the_wrong_granularity()
    {
        Assert.Throws<ArgumentException>(() => new MinMaxObserver(X86InductorQuantizer.WeightSpec()));
        Assert.Throws<ArgumentException>(() => new HistogramObserver(X86InductorQuantizer.WeightSpec()));
        Assert.Throws<ArgumentException>(() => new PerChannelMinMaxObserver(X86InductorQuantizer.ActivationSpec()));
    }

    [Fact]
    public void Default_x86_config_is_histogram_uint8_affine_and_per_channel_int8_symmetric()
    {
        var qconfig = X86InductorQuantizer.GetDefaultQuantizationConfig();
        using var activation = Assert.IsType<HistogramObserver>(qconfig.Activation());
        using var weight = Assert.IsType<PerChannelMinMaxObserver>(qconfig.Weight());

        Assert.Equal((ScalarType.Byte, 0L, 255L, QScheme.PerTensorAffine), (activation.Dtype, activation.QuantMin, activation.QuantMax, activation.QScheme));
        Assert.Equal((2048, 128), (activation.Bins, activation.UpsampleRate));
        Assert.Equal(1.0 / 4096, activation.Eps);
        Assert.Equal((ScalarType.Int8, -128L, 127L, QScheme.PerChannelSymmetric, 0L), (weight.Dtype, weight.QuantMin, weight.QuantMax, weight.QScheme, weight.ChAxis));
        Assert.Equal(1.0 / 4096, weight.Eps);
        Assert.Contains("HistogramObserver(Byte [0, 255] PerTensorAffine, eps=0.000244141, bins=2048, upsample_rate=128)", qconfig.Describe());
    }

    [Fact]
    public void QConfig_factories_build_a_new_observer_each_call()
    {
        var qconfig = X86InductorQuantizer.GetDefaultQuantizationConfig();
        using var a = qconfig.Activation();
        using var b = qconfig.Activation();

        Assert.NotSame(a, b);
    }

    [Theory]
    [InlineData("minmax", typeof(MinMaxObserver))]
    [InlineData("moving_average_minmax", typeof(MovingAverageMinMaxObserver))]
    [InlineData("histogram", typeof(HistogramObserver))]
    [InlineData("percentile", typeof(PercentileObserver))]
    [InlineData("entropy", typeof(EntropyObserver))]
    [InlineData("mse", typeof(MseObserver))]
    public void Options_select_the_activation_observer(string name, Type expected)
    {
        var qconfig = QConfigFactory.FromOptions(new QuantizationOptions { ActivationObserver = name });
        using var observer = qconfig.Activation();

        Assert.IsType(expected, observer);
    }

    [Fact]
    public void Options_map_symmetric_activations_and_per_tensor_weights()
    {
        var qconfig = QConfigFactory.FromOptions(new QuantizationOptions { PerChannelWeights = false, SymmetricActivations = true, ActivationObserver = "percentile", Percentile = 99.5 });
        using var activation = Assert.IsType<PercentileObserver>(qconfig.Activation());
        using var weight = Assert.IsType<MinMaxObserver>(qconfig.Weight());

        Assert.Equal(QScheme.PerTensorSymmetric, activation.QScheme);
        Assert.Equal(ScalarType.Byte, activation.Dtype);
        Assert.Equal(99.5, activation.Percentile);
        Assert.Equal((QScheme.PerTensorSymmetric, ScalarType.Int8), (weight.QScheme, weight.Dtype));
    }

    [Fact]
    public void Unknown_observer_names_and_bad_percentiles_are_rejected()
    {
        var unknown = Assert.Throws<ArgumentException>(() => QConfigFactory.FromOptions(new QuantizationOptions { ActivationObserver = "kl" }));
        Assert.Contains("minmax, moving_average_minmax, histogram, percentile, entropy, mse", unknown.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => QConfigFactory.FromOptions(new QuantizationOptions { Percentile = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => QConfigFactory.FromOptions(new QuantizationOptions { Percentile = 100.01 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => QConfigFactory.FromOptions(new QuantizationOptions { Percentile = double.NaN }));
    }
}
