using System.Globalization;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Quantization;
using ModelOpt.Engine.Quantization.Config;
using ModelOpt.Engine.Quantization.Convert;
using TorchSharp;
using static TorchSharp.torch;

namespace ModelOpt.Bench;

/// <summary>
/// Peak resident memory of one forward pass of <see cref="GraphInterpreter"/> (the prepared FP32 graph calibration
/// runs) or <see cref="FakeQuantizedGraphInterpreter"/> on resnet18-cifar (random weights, 3 channels) at batch 128.
/// A warm-up pass of one image loads the kernels; then the kernel's high-water mark (<c>VmHWM</c>) is reset, so the peak
/// is that of the measured pass alone (a warm-up at full batch would leave its freed memory resident in the heap, hiding
/// the peak). One interpreter per process, as the mark is process-wide.
/// </summary>
internal static class InterpreterMemoryBench
{
    public const string Command = "interpreter-memory";

    public const string Usage = $"usage: ModelOpt.Bench {Command} fp32|fake-quant [--batch N] (resnet18-cifar, 3 channels)";

    private const int Megabyte = 1 << 20;

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count is not (1 or 3) || args[0] is not ("fp32" or "fake-quant") || (args.Count == 3 && args[1] != "--batch"))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var batchSize = args.Count == 3 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 128;
        manual_seed(1);
        using var model = ModelZoo.Create(ModelZoo.ResNet18Cifar, 3, 10);
        model.eval();
        using var captured = GraphBuilder.Capture(model, [1, 3, 32, 32]);
        using var prepared = QuantizePt2e.Prepare(captured, QConfigFactory.FromOptions(new QuantizationOptions()));
        using var noGrad = no_grad();
        using var batch = randn(batchSize, 3, 32, 32);
        Func<Tensor, Tensor> forward;
        QuantizedGraph? quantized = null;
        if (args[0] == "fp32")
        {
            forward = x => GraphInterpreter.Run(prepared.Graph, x);
        }
        else
        {
            using (var calibration = batch[..16])
            {
                QuantizePt2e.Calibrate(prepared, [calibration]);
            }
            quantized = QuantizePt2e.Convert(prepared);
            forward = x => FakeQuantizedGraphInterpreter.Run(quantized, x);
        }
        using (var image = batch[..1])
        using (forward(image))
        {
        }
        // Writing 5 to clear_refs resets VmHWM to the current resident set (Linux 4.0+).
        File.WriteAllText("/proc/self/clear_refs", "5");
        var before = Read("VmRSS");
        using (forward(batch))
        {
            var peak = Read("VmHWM");
            Console.WriteLine(
                $"{args[0]} interpreter, {ModelZoo.ResNet18Cifar} batch {batchSize}, {torch.get_num_threads()} threads: " +
                $"resident before the pass {before / Megabyte} MiB, peak during it {peak / Megabyte} MiB, increase {(peak - before) / Megabyte} MiB");
        }
        quantized?.Dispose();
        return 0;
    }

    private static long Read(string field)
    {
        var line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line[(field.Length + 1)..].Trim().TrimEnd('B', 'k').Trim(), CultureInfo.InvariantCulture) * 1024;
    }
}
