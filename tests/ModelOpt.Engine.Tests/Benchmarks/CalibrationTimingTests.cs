using System.Diagnostics;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Config;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Benchmarks;

/// <summary>Calibration + convert of resnet18-cifar on 256 images; outside the Quantization namespace so the fast filter skips it.</summary>
public class CalibrationTimingTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData("histogram")]
    [InlineData("minmax")]
    public void Resnet18_cifar_calibrates_256_images_and_converts_within_30_seconds(string observer)
    {
        manual_seed(0);
        using var model = ModelZoo.Create(ModelZoo.ResNet18Cifar, 3, 10);
        model.eval();
        using var captured = GraphBuilder.Capture(model, [1, 3, 32, 32]);
        Tensor[] batches = [randn(128, 3, 32, 32), randn(128, 3, 32, 32)];
        var forward = Stopwatch.StartNew();
        using (GraphInterpreter.Run(captured, batches[0]))
        {
            forward.Stop();
        }

        var watch = Stopwatch.StartNew();
        using var prepared = QuantizePt2e.Prepare(captured, QConfigFactory.FromOptions(new(ActivationObserver: observer)));
        QuantizePt2e.Calibrate(prepared, batches);
        var calibrated = watch.Elapsed;
        using var quantized = QuantizePt2e.Convert(prepared);
        watch.Stop();

        output.WriteLine($"{observer}: FP32 forward {forward.Elapsed.TotalSeconds:F2} s/batch; calibrate {calibrated.TotalSeconds:F2} s, total with convert {watch.Elapsed.TotalSeconds:F2} s");
        foreach (var batch in batches)
        {
            batch.Dispose();
        }
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(30), $"{watch.Elapsed.TotalSeconds:F1} s");
    }
}
