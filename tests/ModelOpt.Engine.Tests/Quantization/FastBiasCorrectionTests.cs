using ModelOpt.Engine.Data;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Algorithms;
using ModelOpt.Engine.Quantization.Convert;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Quantization;

[Collection(TrainedResNet20Collection.Name)]
public class FastBiasCorrectionTests(TrainedResNet20 trained, ITestOutputHelper output)
{
    private const int BatchSize = 128;

    [Fact]
    public void Bias_correction_cancels_the_mean_output_shift_on_images_it_did_not_see()
    {
        using var captured = GraphBuilder.Capture(trained.Model, [1, 1, 32, 32]);
        using var calibration = trained.Data.Train.Take(256);
        using var heldOut = trained.Data.Test.Take(256);
        // Per-tensor weights: one scale per layer, so the rounding leaves the larger channel-mean shifts.
        using var prepared = QuantizePt2e.Prepare(captured, QuantizedModels.Default(perChannelWeights: false));
        QuantizePt2e.Calibrate(prepared, Batches(calibration));
        using var quantized = QuantizePt2e.Convert(prepared);

        var before = MeanAbsoluteShift(quantized, heldOut);
        var corrected = FastBiasCorrection.Apply(quantized, Batches(calibration));
        var after = MeanAbsoluteShift(quantized, heldOut);
        var onCalibration = MeanAbsoluteShift(quantized, calibration);

        foreach (var layer in before.Keys)
        {
            output.WriteLine($"{layer}: mean |shift| {before[layer]:G3} -> {after[layer]:G3} (calibration images: {onCalibration[layer]:G3})");
        }
        Assert.Equal(22, corrected.Count); // 21 convs and the fc: every layer with an int8 weight.
        Assert.True(after.Values.Sum() < 0.5 * before.Values.Sum(), $"total mean |shift| {before.Values.Sum():G3} -> {after.Values.Sum():G3}");
        Assert.True(after.Count(a => a.Value < before[a.Key]) >= 0.8 * before.Count, "most layers' shift is smaller");
        Assert.All(onCalibration, s => Assert.True(s.Value < 1e-4 + 1e-3 * before[s.Key], $"{s.Key} keeps {s.Value:G3} on its own images"));
        foreach (var shift in corrected.Values)
        {
            shift.Dispose();
        }
    }

    private static IEnumerable<Tensor> Batches(ImageDataset images) => images.Batches(BatchSize).Select(b => b.Images);

    private static Dictionary<string, double> MeanAbsoluteShift(QuantizedGraph quantized, ImageDataset images)
    {
        var shifts = FastBiasCorrection.MeanOutputShift(quantized, Batches(images));
        var result = shifts.ToDictionary(s => s.Key, s => s.Value.abs().mean().item<double>());
        foreach (var shift in shifts.Values)
        {
            shift.Dispose();
        }
        return result;
    }
}
