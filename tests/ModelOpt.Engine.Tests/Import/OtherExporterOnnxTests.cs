using ModelOpt.Engine.Tests.Runtime;
using Xunit.Abstractions;

namespace ModelOpt.Engine.Tests.Import;

/// <summary>
/// Issue 22: a graph written the way Paddle2ONNX, tf2onnx and onnx-simplifier write one (scripts/make_zoo_onnx_fixtures.py,
/// onnx.helper): opset 11, a BGR 0-255 input with dynamic height and width, normalisation arithmetic on constants,
/// hard-swish as x * Clip(x + 3, 0, 6) / 6, BatchNormalization after a Relu, a flatten written as
/// Shape → Cast → Slice → Concat → Reshape, MatMul + Add for the classifier. It runs at a non-square 48 x 64.
/// </summary>
[Collection(QuantizedEngineCollection.Name)]
public class OtherExporterOnnxTests(ITestOutputHelper output)
{
    public static TheoryData<string> Files => ZooOnnxFixtures.Rows(ZooOnnxFixtures.OtherExporter);

    [Theory]
    [MemberData(nameof(Files))]
    public void Imports_at_the_given_size_and_computes_onnx_runtime_fp32_logits(string file) => ZooOnnxChecks.Fp32EqualsOnnxRuntime(file, output);

    [Theory]
    [MemberData(nameof(Files))]
    public void Converts_to_int8_forms_that_load_run_and_stay_close_to_fp32(string file) => ZooOnnxChecks.Int8FormsStayCloseToFp32(file, output);

    [Fact]
    public void The_fixture_declares_dynamic_height_and_width_and_bgr_input()
    {
        var fixture = Assert.Single(ZooOnnxFixtures.Manifest.Files, f => f.Family == ZooOnnxFixtures.OtherExporter);

        Assert.Equal([3L, null, null], fixture.InputShape);
        Assert.Equal("bgr", fixture.ChannelOrder);
        Assert.Equal(11, fixture.Opset);
        Assert.NotEqual(fixture.RunShape[1], fixture.RunShape[2]); // run non-square
    }
}
