using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Observers;
using ModelOpt.Engine.Quantization.Quantizers;

namespace ModelOpt.Engine.Tests.References;

/// <summary>
/// ModelOpt's observers against torch.ao.quantization's on the same tensors (PyTorch 1.13, eps 2^-12). The histogram
/// cases observe one batch each (its search is 1.13's; its binning has 1.13's int truncation removed and 1.13's
/// re-binning of a widened range is not used: see the script's <c>FirstBatchHistogramObserver</c>).
/// </summary>
public class PyTorchObserverReferenceTests
{
    private static readonly PyTorchQuantizationReferences References = PyTorchQuantizationReferences.FromTestData;

    public static TheoryData<string> Cases => new(References.Observers.Cases.Select(c => c.ToString()));

    [Theory]
    [MemberData(nameof(Cases))]
    public void Qparams_match_pytorchs(string name)
    {
        var reference = References.Observers.Cases.Single(c => c.ToString() == name);
        using var observer = Observed(reference);
        var (scale, zeroPoint) = observer.CalculateQParams();
        using (scale)
        using (zeroPoint)
        {
            Assert.Equal(reference.ZeroPoint, zeroPoint.reshape(-1).to_type(ScalarType.Int64).data<long>().ToArray());
            // Scales are float32 in both: equal to float32 rounding.
            var scales = scale.reshape(-1).to_type(ScalarType.Float64).data<double>().ToArray();
            Assert.Equal(reference.Scale.Length, scales.Length);
            for (var i = 0; i < scales.Length; i++)
            {
                Assert.True(Math.Abs(scales[i] - reference.Scale[i]) <= 1e-6 * reference.Scale[i], $"scale[{i}] {scales[i]:G9}, PyTorch {reference.Scale[i]:G9}");
            }
        }
    }

    private static ObserverBase Observed(ObserverReference reference)
    {
        var observer = Create(reference.Observer, Spec(reference.Spec), References.Eps);
        using var data = PyTorchQuantizationReferences.Read(References.Observers.Tensors[reference.Tensor]);
        foreach (var batch in Batches(data, reference))
        {
            using (batch)
            {
                observer.Observe(batch);
            }
        }
        return observer;
    }

    private static IEnumerable<Tensor> Batches(Tensor data, ObserverReference reference) => reference.Batches.Select(i => data[i]);

    private static QuantizationSpec Spec(string name) => name switch
    {
        "uint8_affine" => X86InductorQuantizer.ActivationSpec(),
        "uint8_symmetric" => X86InductorQuantizer.ActivationSpec(symmetric: true),
        "int8_symmetric" => X86InductorQuantizer.WeightSpec(perChannel: false),
        "int8_per_channel_symmetric" => X86InductorQuantizer.WeightSpec(),
        _ => throw new ArgumentException($"No spec named {name} in the references.", nameof(name)),
    };

    private static ObserverBase Create(string name, QuantizationSpec spec, double eps) => name switch
    {
        "minmax" => new MinMaxObserver(spec, eps),
        "moving_average_minmax" => new MovingAverageMinMaxObserver(spec, eps: eps),
        "histogram" => new HistogramObserver(spec, eps),
        "per_channel_minmax" => new PerChannelMinMaxObserver(spec, eps),
        _ => throw new ArgumentException($"No observer named {name} in the references.", nameof(name)),
    };
}
