using System.Text.Json;
using ModelOpt.Engine.Models;
using ModelOpt.Engine.Runtime.TorchScript;
using ModelOpt.Engine.Tests.Support;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Runtime;

/// <summary>
/// Writes the inputs of <c>scripts/check_torchscript_compat.py</c> when <c>MODELOPT_COMPAT_DIR</c> is set: per model an
/// int8 archive (<c>NAME.pt</c>), a float32 input batch (<c>NAME.input.f32</c>), ModelOpt's logits
/// (<c>NAME.expected.f32</c>) and their shapes (<c>NAME.json</c>). Skipped otherwise.
/// </summary>
[Collection(QuantizedEngineCollection.Name)]
public class TorchScriptCompatExportTests(ITestOutputHelper output)
{
    [CompatDirectoryTheory]
    [InlineData(ModelZoo.ResNet20, 1)]
    [InlineData(ModelZoo.ResNet20, 3)]
    [InlineData(ModelZoo.ResNet18Cifar, 3)]
    public void Writes_compat_check_files_when_asked(string name, long channels)
    {
        var directory = Environment.GetEnvironmentVariable(CompatDirectoryTheoryAttribute.Variable)!;
        Directory.CreateDirectory(directory);
        manual_seed(21);
        using var model = ModelZoo.Create(name, channels, 10);
        using var quantized = QuantizedModels.Quantize(model, [1, channels, 32, 32], QuantizedModels.Default());
        using var int8 = TorchScriptInt8Model.Build(quantized);
        using var input = randn(32, channels, 32, 32);
        using var logits = int8.Run(input);

        var stem = Path.Combine(directory, $"{name}-{channels}ch");
        int8.Save($"{stem}.pt");
        File.WriteAllBytes($"{stem}.input.f32", input.bytes.ToArray());
        File.WriteAllBytes($"{stem}.expected.f32", logits.contiguous().bytes.ToArray());
        File.WriteAllText($"{stem}.json", JsonSerializer.Serialize(new
        {
            input_shape = input.shape,
            output_shape = logits.shape,
            output_scale = quantized.QuantizationOf(quantized.Graph.Output).Scale,
            engine = int8.Engine.ToString(),
        }));
        output.WriteLine($"wrote {stem}.*");

        // What the script reads must be what ModelOpt ran: the saved archive reloads to the same logits.
        using var reloaded = TorchScriptInt8Model.Load($"{stem}.pt");
        using var reloadedLogits = reloaded.Run(input);
        TensorAssert.BitIdentical(logits, reloadedLogits);
    }
}
