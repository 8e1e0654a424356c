namespace ModelOpt.Engine.Import.Onnx;

/// <summary>
/// Every ONNX op (default domain) ModelOpt maps, one converter each, gathered from the op families. An op not here is
/// refused before anything runs, with every node that uses it named. Converters read the opset for the forms that
/// changed across opsets (attributes that became inputs, Softmax's axis).
/// </summary>
internal static class OnnxConverterRegistry
{
    private static readonly Dictionary<string, OnnxConverter> Converters =
        ConvolutionConverters.All
            .Concat(ActivationConverters.All)
            .Concat(ArithmeticConverters.All)
            .Concat(PoolingConverters.All)
            .Concat(ShapeConverters.All)
            .Concat(ResizeConverters.All)
            .ToDictionary(c => c.OpType, c => c.Convert);

    public static IEnumerable<string> OpTypes => Converters.Keys.Order(StringComparer.Ordinal);

    public static bool TryGet(string domain, string opType, out OnnxConverter converter)
    {
        converter = null!;
        return domain is "" or "ai.onnx" && Converters.TryGetValue(opType, out converter!);
    }
}
