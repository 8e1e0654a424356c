namespace ModelOpt.Engine.Models;

/// <summary>How a model that arrived as an ONNX file is named where a zoo name would stand: <c>onnx:&lt;file name&gt;</c>.</summary>
public static class OnnxModelName
{
    public const string Prefix = "onnx:";

    /// <summary>Model names are stored in 64 characters; a longer file name is cut (the job reads the file, not the name).</summary>
    public const int MaxLength = 64;

    public static string Of(string fileName)
    {
        var name = Prefix + fileName;
        return name.Length <= MaxLength ? name : name[..MaxLength];
    }

    public static bool IsOnnx(string modelName) => modelName.StartsWith(Prefix, StringComparison.Ordinal);
}
