using Onnx;
using AttributeType = Onnx.AttributeProto.Types.AttributeType;

namespace ModelOpt.Engine.Import.Onnx;

/// <summary>Typed reads of a node's attributes, with the ONNX defaults given by the caller.</summary>
internal static class OnnxNodeAttributes
{
    public static long Int(this NodeProto node, string name, long fallback) =>
        Find(node, name, AttributeType.Int) is { } a ? a.I : fallback;

    public static float Float(this NodeProto node, string name, float fallback) =>
        Find(node, name, AttributeType.Float) is { } a ? a.F : fallback;

    public static long[]? Ints(this NodeProto node, string name) =>
        Find(node, name, AttributeType.Ints) is { } a ? [.. a.Ints] : null;

    public static float[]? Floats(this NodeProto node, string name) =>
        Find(node, name, AttributeType.Floats) is { } a ? [.. a.Floats] : null;

    public static string String(this NodeProto node, string name, string fallback) =>
        Find(node, name, AttributeType.String) is { } a ? a.S.ToStringUtf8() : fallback;

    public static TensorProto? TensorAttribute(this NodeProto node, string name) => Find(node, name, AttributeType.Tensor)?.T;

    /// <summary>The node's input at <paramref name="index"/>, or null when it is absent or left empty (an omitted optional input).</summary>
    public static string? OptionalInput(this NodeProto node, int index) =>
        index < node.Input.Count && node.Input[index].Length > 0 ? node.Input[index] : null;

    private static AttributeProto? Find(NodeProto node, string name, AttributeType type)
    {
        var attribute = node.Attribute.FirstOrDefault(a => a.Name == name);
        if (attribute is not null && attribute.Type != type)
        {
            throw new OnnxNodeNotSupportedException($"attribute '{name}' is {attribute.Type}, expected {type}.");
        }
        return attribute;
    }
}
