using ModelOpt.Engine.Tests.Runtime;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>
/// Issue 22: torchvision 0.14's 19 classification architectures, small, exported by PyTorch 1.13 at opsets 13 and 17
/// (scripts/make_zoo_onnx_fixtures.py): each imports, computes ONNX Runtime's FP32 logits, and converts to int8 forms
/// that LibTorch and ONNX Runtime load and run close to FP32.
/// </summary>
[Collection(QuantizedEngineCollection.Name)]
public class TorchVisionZooOnnxTests(ITestOutputHelper output)
{
    /// <summary>The architectures issue 22 names, as the fixture script names them.</summary>
    private static readonly string[] Architectures =
    [
        "resnet18", "resnext50_32x4d", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large", "efficientnet_b0",
        "efficientnet_v2_s", "regnet_y_400mf", "mnasnet1_0", "shufflenet_v2_x1_0", "squeezenet1_1", "densenet121", "googlenet",
        "inception_v3", "convnext_tiny", "swin_t", "vit_b_16", "alexnet", "vgg11_bn",
    ];

    public static TheoryData<string> Files => ZooOnnxFixtures.Rows(ZooOnnxFixtures.TorchVision);

    [Theory]
    [MemberData(nameof(Files))]
    public void Imports_and_computes_onnx_runtime_fp32_logits(string file) => ZooOnnxChecks.Fp32EqualsOnnxRuntime(file, output);

    [Theory]
    [MemberData(nameof(Files))]
    public void Converts_to_int8_forms_that_load_run_and_stay_close_to_fp32(string file) => ZooOnnxChecks.Int8FormsStayCloseToFp32(file, output);

    /// <summary>An architecture torch.onnx cannot export at an opset is recorded with the exporter's reason, not dropped.</summary>
    [Fact]
    public void Every_architecture_is_a_fixture_at_opsets_13_and_17_or_its_export_failure_is_recorded()
    {
        var manifest = ZooOnnxFixtures.Manifest;
        foreach (var failure in manifest.ExportFailures)
        {
            output.WriteLine($"{failure.Architecture} opset {failure.Opset}: not exported: {failure.Reason}");
        }
        foreach (var architecture in Architectures)
        {
            foreach (var opset in new[] { 13, 17 })
            {
                var exported = manifest.Files.Count(f => f.Family == ZooOnnxFixtures.TorchVision && f.Architecture == architecture && f.Opset == opset);
                var failed = manifest.ExportFailures.Count(f => f.Architecture == architecture && f.Opset == opset && f.Reason.Length > 0);
                Assert.True(exported + failed == 1, $"{architecture} opset {opset}: {exported} files, {failed} recorded failures");
            }
        }
        Assert.Equal(Architectures.Order(), manifest.Files.Where(f => f.Family == ZooOnnxFixtures.TorchVision).Select(f => f.Architecture).Distinct().Order());
    }

    /// <summary>The committed folder is what the manifest says, and small (the full-size models live in the benchmark).</summary>
    [Fact]
    public void The_manifest_names_every_committed_file_with_its_size_and_the_folder_stays_under_8_MB()
    {
        var manifest = ZooOnnxFixtures.Manifest;
        var onDisk = Directory.GetFiles(ZooOnnxFixtures.PathOf(""), "*.onnx").Select(Path.GetFileName).Order();

        Assert.Equal(manifest.Files.Select(f => f.File).Order(), onDisk);
        Assert.All(manifest.Files, f => Assert.Equal(f.Bytes, new FileInfo(ZooOnnxFixtures.PathOf(f.File)).Length));
        Assert.Equal(manifest.Files.Sum(f => f.Bytes), manifest.TotalBytes);
        Assert.True(manifest.TotalBytes < 8_000_000, $"{manifest.TotalBytes} bytes");
    }
}
