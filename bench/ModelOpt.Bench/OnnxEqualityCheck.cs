using System.Globalization;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Engine.Runtime.Onnx;
using static TorchSharp.torch;

namespace ModelOpt.Bench;

/// <summary>
/// Imports an ONNX file and compares ModelOpt's FP32 graph with ONNX Runtime on the same file and the same seeded
/// standard-normal images: the largest |difference| relative to the largest |ONNX Runtime output|. A refused import
/// prints the importer's reason. Used by scripts/bench-torchvision-zoo.sh before each pipeline run.
/// </summary>
internal static class OnnxEqualityCheck
{
    public const string Command = "onnx-equality";

    public const string Usage = $"usage: ModelOpt.Bench {Command} FILE.onnx [--images N]";

    public static int Run(IReadOnlyList<string> args)
    {
        if (args.Count is not (1 or 3) || (args.Count == 3 && args[1] != "--images"))
        {
            Console.Error.WriteLine(Usage);
            return 2;
        }
        var path = args[0];
        var images = args.Count == 3 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 2;
        ImportedOnnxModel imported;
        try
        {
            imported = OnnxImporter.Import(path);
        }
        catch (Exception e) when (e is UnsupportedOnnxModelException or OnnxFormatException)
        {
            Console.WriteLine($"refused: {e.Message.ReplaceLineEndings(" ")}");
            return 1;
        }
        using (imported)
        {
            manual_seed(0);
            using var input = randn([images, .. imported.InputShape]);
            using var runtime = OnnxRuntimeModel.Load(path);
            using var expected = runtime.Run(input);
            using var actual = GraphInterpreter.Run(imported.Graph, input);
            using var difference = (actual - expected).abs().max();
            using var scale = expected.abs().max();
            var relative = difference.item<float>() / Math.Max(scale.item<float>(), 1e-12f);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"imported: [{string.Join(", ", imported.InputShape)}] -> {imported.NumClasses} classes; FP32 vs ONNX Runtime on {images} images: relative error {relative:E2}"));
            return 0;
        }
    }
}
