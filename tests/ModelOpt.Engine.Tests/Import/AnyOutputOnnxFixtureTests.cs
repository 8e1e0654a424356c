using ModelOpt.Engine.Tests.Runtime;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>
/// Issue 23: models whose output is not a row of class logits (scripts/make_zoo_onnx_fixtures.py, PyTorch 1.13, opset
/// 13): a segmentation-style net (N x 1 x H x W sigmoid map, ConvTranspose and Resize decoder), a recognizer-style net
/// (N x T x C) and a net with two outputs. Every output is compared with ONNX Runtime's in FP32, and with FP32 for both
/// int8 forms (SQNR; arg-max agreement printed where there is a class axis).
/// </summary>
[Collection(QuantizedEngineCollection.Name)]
public class AnyOutputOnnxFixtureTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files => ZooOnnxFixtures.Rows(ZooOnnxFixtures.AnyOutput);

    [Theory]
    [MemberData(nameof(Files))]
    public void Imports_and_every_output_equals_onnx_runtime_in_fp32(string file) => ZooOnnxChecks.Fp32EqualsOnnxRuntime(file, output);

    [Theory]
    [MemberData(nameof(Files))]
    public void Converts_to_int8_forms_whose_every_output_stays_close_to_fp32(string file) => ZooOnnxChecks.Int8FormsStayCloseToFp32(file, output);

    [Fact]
    public void The_fixtures_cover_a_map_a_sequence_and_two_outputs()
    {
        var files = ZooOnnxFixtures.Manifest.Files.Where(f => f.Family == ZooOnnxFixtures.AnyOutput).ToList();

        Assert.Contains(files, f => f.Outputs is [{ Shape: [1, _, _] }]);               // N x 1 x H x W
        Assert.Contains(files, f => f.Outputs is [{ Shape: [_, _] }] && f.ClassAxis == -1); // N x T x C
        Assert.Contains(files, f => f.Outputs.Count == 2);
    }
}
