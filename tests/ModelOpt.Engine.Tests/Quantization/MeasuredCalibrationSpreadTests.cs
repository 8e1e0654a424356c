using ModelOpt.Engine.Quantization.Calibration;
using ModelOpt.Engine.Runtime.Int8Checkpoint;

namespace ModelOpt.Engine.Tests.Quantization;

public class MeasuredCalibrationSpreadTests
{
    [Fact]
    public void An_exact_seed_s_infinite_SQNR_is_kept_in_the_manifest_and_left_out_of_the_spread()
    {
        var measured = MeasuredCalibrationSpread.From(
            MeasuredCalibrationSpread.SqnrDb, 50, "50 validation images (training split, seed 0)",
            [new(0, 31.25), new(1, double.PositiveInfinity), new(2, 29.5)]);

        Assert.Equal(1.75, measured.Spread, 9);
        Assert.Equal("calibration spread: 1.75 dB over 3 seeds on 50 validation images (training split, seed 0)", measured.Describe());
        // Through the manifest's JSON and back: +inf is written as a named literal, not lost or refused.
        var record = new Int8CalibrationRecord("stratified", 0, 16, "d", "s", Spread: CalibrationSpread.For(measured));
        var manifest = new Int8Manifest(
            Int8Manifest.CurrentFormat, "m", [1, 3, 4, 4], 0, null, "q", "X86", [], [], Calibration: record);
        var read = Int8Manifest.FromJson(manifest.ToJson()).Calibration!.Spread!;
        Assert.Equal([31.25, double.PositiveInfinity, 29.5], read.Measured!.Values.Select(v => v.Value));
        Assert.Contains("measured for this model", read.Note);
    }

    [Fact]
    public void Top1_values_are_rounded_past_what_the_images_resolve()
    {
        var measured = MeasuredCalibrationSpread.From(
            MeasuredCalibrationSpread.Top1, 2000, "the first 2000 test images", [new(0, 79.0), new(1, 100 * 0.796)]);

        Assert.Equal([79.0, 79.6], measured.Values.Select(v => v.Value));
        Assert.Equal(0.6, measured.Spread);
        Assert.Equal("calibration spread: 0.60 pt over 2 seeds on the first 2000 test images", measured.Describe());
    }
}
