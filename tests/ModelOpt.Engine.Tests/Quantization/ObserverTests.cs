using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Observers;
using ModelOpt.Engine.Quantization.Quantizers;
using ModelOpt.Engine.Tests.Support;

namespace ModelOpt.Engine.Tests.Quantization;

[Collection(GlobalGeneratorCollection.Name)]
public class ObserverTests
{
    private static readonly QuantizationSpec Uint8Affine = X86InductorQuantizer.ActivationSpec();
    private static readonly QuantizationSpec Uint8Symmetric = X86InductorQuantizer.ActivationSpec(symmetric: true);
    private static readonly QuantizationSpec Int8Symmetric = new(ScalarType.Int8, QScheme.PerTensorSymmetric);
    private static readonly QuantizationSpec Int8PerChannel = X86InductorQuantizer.WeightSpec();

    [Fact]
    public void MinMaxObserver_affine_uint8_matches_the_hand_computed_qparams()
    {
        using var observer = new MinMaxObserver(Uint8Affine);
        using var a = tensor(new[] { -1f, 0.5f });
        using var b = tensor(new[] { 2f, 0f });
        observer.Observe(a);
        observer.Observe(b);

        var (scale, zp) = QParams(observer);

        Assert.Equal(-1.0, observer.MinVal);
        Assert.Equal(2.0, observer.MaxVal);
        Assert.Equal(3.0 / 255, scale, 6);
        Assert.Equal(85, zp); // 0 - round(-1 / (3 / 255)) = 85
    }

    [Fact]
    public void MinMaxObserver_symmetric_int8_and_uint8_use_half_the_range_around_zero()
    {
        using var signed = new MinMaxObserver(Int8Symmetric);
        using var unsigned = new MinMaxObserver(Uint8Symmetric);
        using var x = tensor(new[] { -3f, 1f });
        signed.Observe(x);
        unsigned.Observe(x);

        AssertQParams((3.0 / 127.5, 0L), QParams(signed));
        AssertQParams((3.0 / 127.5, 128L), QParams(unsigned));
    }

    [Fact]
    public void MinMaxObserver_range_always_includes_zero()
    {
        using var observer = new MinMaxObserver(Uint8Affine);
        using var x = tensor(new[] { 2f, 4f });
        observer.Observe(x);

        AssertQParams((4.0 / 255, 0L), QParams(observer));
    }

    [Fact]
    public void Constant_and_all_zero_tensors_give_documented_qparams()
    {
        using var constant = new MinMaxObserver(Uint8Affine, X86InductorQuantizer.Eps);
        using var allZero = new MinMaxObserver(Uint8Affine, X86InductorQuantizer.Eps);
        using var negative = new HistogramObserver(Uint8Affine, X86InductorQuantizer.Eps);
        using var c = full(10, 3f);
        using var z = zeros(10);
        using var n = full(10, -2f);
        constant.Observe(c);
        allZero.Observe(z);
        negative.Observe(n);

        AssertQParams((3.0 / 255, 0L), QParams(constant));
        AssertQParams((X86InductorQuantizer.Eps, 0L), QParams(allZero));
        AssertQParams((2.0 / 255, 255L), QParams(negative));
    }

    [Theory]
    [InlineData(float.NaN, "NaN")]
    [InlineData(float.PositiveInfinity, "infinite")]
    [InlineData(float.NegativeInfinity, "infinite")]
    public void Every_observer_rejects_non_finite_values_naming_itself(float bad, string expected)
    {
        using var x = tensor(new[] { 1f, bad, -1f });
        foreach (var observer in AllObservers())
        {
            using (observer)
            {
                observer.Label = "activation %7 (layer1.0.conv1)";
                var error = Assert.Throws<QuantizationException>(() => observer.Observe(x));
                Assert.Contains(expected, error.Message);
                Assert.Contains(observer.GetType().Name, error.Message);
                Assert.Contains("layer1.0.conv1", error.Message);
            }
        }
    }

    [Fact]
    public void Every_observer_refuses_qparams_before_seeing_data()
    {
        foreach (var observer in AllObservers())
        {
            using (observer)
            {
                Assert.Throws<QuantizationException>(() => observer.CalculateQParams());
            }
        }
    }

    [Fact]
    public void MovingAverageMinMaxObserver_first_batch_sets_then_averages()
    {
        using var observer = new MovingAverageMinMaxObserver(Uint8Affine, averagingConstant: 0.01);
        using var a = tensor(new[] { 0f, 1f });
        using var b = tensor(new[] { -1f, 3f });
        observer.Observe(a);
        observer.Observe(b);

        Assert.Equal(-0.01, observer.MinVal, 6); // 0 + 0.01 * (-1 - 0)
        Assert.Equal(1.02, observer.MaxVal, 6);  // 1 + 0.01 * (3 - 1)
    }

    [Fact]
    public void PerChannelMinMaxObserver_computes_one_symmetric_scale_per_output_channel()
    {
        using var observer = new PerChannelMinMaxObserver(Int8PerChannel);
        using var w = tensor(new[] { 1f, -2f, 0.5f, 0.25f, 0f, 0f }, [3, 2]);
        observer.Observe(w);

        var (scale, zp) = observer.CalculateQParams();
        using (scale)
        using (zp)
        {
            var scales = scale.data<float>().ToArray();
            Assert.Equal(2 / 127.5, scales[0], 6);
            Assert.Equal(0.5 / 127.5, scales[1], 6);
            Assert.Equal(UniformQuantizationObserverBase.DefaultEps, scales[2], 9);
            Assert.Equal([0L, 0L, 0L], zp.data<long>().ToArray());
        }
    }

    [Fact]
    public void HistogramObserver_keeps_the_full_range_of_uniform_data()
    {
        manual_seed(1);
        using var observer = new HistogramObserver(Uint8Affine);
        using var x = rand(20_000);
        observer.Observe(x);

        var (scale, zp) = QParams(observer);

        Assert.InRange(scale * 255, 0.97, 1.01);
        Assert.Equal(0, zp);
    }

    [Fact]
    public void HistogramObserver_clips_gaussian_tails_and_beats_minmax_on_raw_data_l2_error()
    {
        manual_seed(2);
        using var x = randn(200_000);
        using var histogram = new HistogramObserver(Uint8Affine);
        using var minmax = new MinMaxObserver(Uint8Affine);
        histogram.Observe(x);
        minmax.Observe(x);

        var clipped = QParams(histogram);
        var full = QParams(minmax);

        Assert.True(clipped.Scale < full.Scale, $"scale {clipped.Scale} vs min/max {full.Scale}");
        Assert.True(L2Error(x, clipped) < L2Error(x, full), $"L2 {L2Error(x, clipped)} vs min/max {L2Error(x, full)}");
    }

    [Fact]
    public void HistogramObserver_rebins_when_the_range_grows_preserving_counts_and_shape()
    {
        manual_seed(3);
        using var a = rand(10_000);
        using var b = rand(10_000) * 4 - 2;
        using var observer = new HistogramObserver(Uint8Affine, bins: 64);
        observer.Observe(a);
        observer.Observe(b);

        using var both = cat([a, b]);
        var (direct, _) = histogram(both, 64, (both.min().item<float>(), both.max().item<float>()));
        using (direct)
        {
            var expected = direct.to_type(ScalarType.Float64).data<double>().ToArray();
            Assert.Equal(both.min().item<float>(), observer.MinVal);
            Assert.Equal(both.max().item<float>(), observer.MaxVal);
            Assert.Equal(20_000, observer.Histogram.Sum(), 6);
            var l1 = expected.Zip(observer.Histogram, (e, h) => Math.Abs(e - h)).Sum();
            Assert.True(l1 < 0.02 * 20_000, $"L1 distance {l1}");
        }
    }

    [Fact]
    public void PercentileObserver_matches_sorted_data_quantiles_within_a_bin()
    {
        using var x = arange(0, 10_000, dtype: ScalarType.Float32);
        using var observer = new PercentileObserver(Int8Symmetric, 99);
        observer.Observe(x - 5000);

        var (scale, _) = QParams(observer);

        // Range [-5000 + 99.99..., 4899]: the symmetric scale follows the larger side, the 1st percentile -4900.
        Assert.Equal(4900 / 127.5, scale, 0.05);
    }

    [Fact]
    public void PercentileObserver_at_100_keeps_min_and_max()
    {
        using var x = tensor(new[] { -1f, 0f, 2f });
        using var observer = new PercentileObserver(Uint8Affine, 100);
        observer.Observe(x);

        AssertQParams((3.0 / 255, 85L), QParams(observer));
    }

    [Fact]
    public void EntropyObserver_clips_sparse_outliers_but_keeps_dense_uniform_data()
    {
        manual_seed(4);
        using var dense = rand(50_000);
        using var withOutliers = cat([dense, full(5, 10f)]);
        using var uniform = new EntropyObserver(Uint8Affine);
        using var outliers = new EntropyObserver(Uint8Affine);
        uniform.Observe(dense);
        outliers.Observe(withOutliers);

        Assert.InRange(QParams(uniform).Scale * 255, 0.95, 1.01);
        Assert.InRange(QParams(outliers).Scale * 255, 1.0, 2.0);
    }

    [Fact]
    public void MseObserver_range_is_within_five_percent_of_the_brute_force_best_on_raw_data()
    {
        manual_seed(5);
        using var x = cat([randn(40_000).abs(), rand(20) * 30]);
        using var observer = new MseObserver(Uint8Affine);
        observer.Observe(x);

        var chosen = L2Error(x, QParams(observer));
        var best = double.PositiveInfinity;
        var max = x.max().item<float>();
        for (var k = 1; k <= 400; k++)
        {
            var scale = max * k / 400.0 / 255;
            best = Math.Min(best, L2Error(x, (scale, 0)));
        }

        Assert.True(chosen <= best * 1.05, $"chosen {chosen}, brute force {best}");
    }

    [Fact]
    public void Observers_do_not_keep_or_modify_the_observed_tensor()
    {
        using var x = tensor(new[] { -1f, 2f });
        using var copy = x.clone();
        foreach (var observer in AllObservers())
        {
            using (observer)
            {
                observer.Observe(x);
            }
        }
        Assert.True(x.eq(copy).all().item<bool>());
    }

    private static IEnumerable<ObserverBase> AllObservers() =>
    [
        new MinMaxObserver(Uint8Affine),
        new MovingAverageMinMaxObserver(Uint8Affine),
        new PerChannelMinMaxObserver(Int8PerChannel),
        new HistogramObserver(Uint8Affine),
        new PercentileObserver(Uint8Affine, 99.9),
        new EntropyObserver(Uint8Affine),
        new MseObserver(Uint8Affine),
    ];

    private static (double Scale, long ZeroPoint) QParams(ObserverBase observer)
    {
        var (scale, zp) = observer.CalculateQParams();
        using (scale)
        using (zp)
        {
            return (scale.item<float>(), zp.item<long>());
        }
    }

    /// <summary>Scales are float32: compared to a relative 1e-6.</summary>
    private static void AssertQParams((double Scale, long ZeroPoint) expected, (double Scale, long ZeroPoint) actual)
    {
        Assert.Equal(expected.ZeroPoint, actual.ZeroPoint);
        Assert.True(Math.Abs(expected.Scale - actual.Scale) <= 1e-6 * expected.Scale, $"scale {actual.Scale}, expected {expected.Scale}");
    }

    /// <summary>Squared error of quantize-dequantize over the raw data, computed independently of the observers.</summary>
    private static double L2Error(Tensor x, (double Scale, long ZeroPoint) q)
    {
        using var scope = NewDisposeScope();
        var dq = ((x / q.Scale).round() + q.ZeroPoint).clamp(0, 255).sub(q.ZeroPoint).mul(q.Scale);
        return (dq - x).pow(2).sum().item<float>();
    }
}
