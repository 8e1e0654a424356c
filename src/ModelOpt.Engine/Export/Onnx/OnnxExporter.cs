using Google.Protobuf;
using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;
using Onnx;

namespace ModelOpt.Engine.Export.Onnx;

/// <summary>
/// Writes captured graphs as ONNX models (opset <see cref="Opset"/>) with a float input <see cref="InputName"/> and
/// float output <see cref="OutputName"/>, both with a dynamic batch dimension "N".
/// </summary>
public static class OnnxExporter
{
    /// <summary>17 has per-channel QuantizeLinear/DequantizeLinear (13+) and is run by every current ONNX Runtime.</summary>
    public const int Opset = 17;

    public const string InputName = "input";

    public const string OutputName = "output";

    internal const long IrVersion = 8; // The IR version that introduced opset 17.

    /// <summary>The FP32 model; BatchNorm and ReLU nodes are exported as such, a folded and fused graph as Conv (+Relu).</summary>
    public static ModelProto ExportFp32(ModelGraph graph) => new OnnxGraphExport(graph, null).Build("FP32");

    /// <summary>
    /// The QDQ int8 model: activations QuantizeLinear/DequantizeLinear with their calibrated qparams, conv and linear
    /// weights int8 (per-channel along axis 0 when so quantized) and int32 biases, each behind a DequantizeLinear.
    /// ONNX clamps to the full range of the activation type, not to <see cref="ActivationQuantization.QuantMax"/>.
    /// </summary>
    public static ModelProto ExportQdq(QuantizedGraph quantized) =>
        new OnnxGraphExport(quantized.Graph, quantized).Build($"QDQ int8: {quantized.QConfigDescription}");

    public static void Save(ModelProto model, string path)
    {
        using var file = File.Create(path);
        model.WriteTo(file);
    }

    public static ModelProto Load(string path)
    {
        using var file = File.OpenRead(path);
        return ModelProto.Parser.ParseFrom(file);
    }

    /// <summary>How many nodes of each op type the model's main graph has, e.g. to check that ORT fused QLinearConv.</summary>
    public static IReadOnlyDictionary<string, int> OpTypeCounts(ModelProto model) =>
        model.Graph.Node.GroupBy(n => n.OpType).ToDictionary(g => g.Key, g => g.Count());
}
