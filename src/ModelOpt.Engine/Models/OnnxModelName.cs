namespace ModelOpt.Engine.Models;

/// <summary>How a model that arrived as an ONNX file is named where a zoo name would stand: <c>onnx:&lt;file name&gt;</c>.</summary>
public static class OnnxModelName
{
    public const string Prefix = "onnx:";

    public static string Of(string fileName) => Prefix + fileName;

    public static bool IsOnnx(string modelName) => modelName.StartsWith(Prefix, StringComparison.Ordinal);
}
