using System.Globalization;
using ModelOpt.Engine.Runtime;
using ModelOpt.Engine.Runtime.TorchScript;
using static TorchSharp.torch;

namespace ModelOpt.Bench;

/// <summary>
/// Runs a job's delivered int8 TorchScript (<c>model-int8.pt</c>) on preprocessed inputs and writes its outputs, so that a
/// script can score them with a task metric (scripts/bench_generic_models.py score). Both files are raw little-endian
/// float32 (numpy's <c>tofile</c>); the input's element count fixes N for the given per-sample shape.
/// </summary>
internal static class Int8Outputs
{
    public const string Command = "run-int8";

    public const string Usage = $"usage: ModelOpt.Bench {Command} MODEL-INT8.pt INPUT.f32 OUTPUT.f32 --shape C,H,W [--threads N] [--batch N]";

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count < 5 || args.Count % 2 == 0)
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var options = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 3; i < args.Count; i += 2)
        {
            options[args[i].TrimStart('-')] = args[i + 1];
        }
        if (!options.TryGetValue("shape", out var shapeText) || options.Keys.Except(["shape", "threads", "batch"]).Any())
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        long[] shape = [.. shapeText.Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture))];
        if (options.TryGetValue("threads", out var threads))
        {
            set_num_threads(int.Parse(threads, CultureInfo.InvariantCulture));
        }
        var batch = options.TryGetValue("batch", out var b) ? int.Parse(b, CultureInfo.InvariantCulture) : 256;

        try
        {
            return Write(args[0], args[1], args[2], shape, batch);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or Int8CheckpointException)
        {
            Console.Error.WriteLine(e.Message);
            return 1;
        }
    }

    private static int Write(string modelPath, string inputPath, string outputPath, long[] shape, int batch)
    {
        var bytes = File.ReadAllBytes(inputPath);
        var sampleFloats = shape.Aggregate(1L, (a, v) => a * v);
        if (bytes.Length % (sampleFloats * sizeof(float)) != 0)
        {
            Console.Error.WriteLine($"{inputPath} holds {bytes.Length} bytes, not a whole number of float32 samples of shape [{string.Join(",", shape)}].");
            return 1;
        }
        var floats = new float[bytes.Length / sizeof(float)];
        Buffer.BlockCopy(bytes, 0, floats, 0, bytes.Length);
        var count = floats.Length / sampleFloats;

        using var model = TorchScriptInt8Model.Load(modelPath);
        using var inputs = tensor(floats, [count, .. shape]);
        using var output = File.Create(outputPath);
        for (long start = 0; start < count; start += batch)
        {
            using var scope = NewDisposeScope();
            var result = model.Run(inputs.narrow(0, start, Math.Min(batch, count - start))).contiguous();
            output.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(result.data<float>().ToArray().AsSpan()));
        }
        Console.WriteLine($"{Path.GetFileName(modelPath)}: {count} samples -> {outputPath}");
        return 0;
    }
}
