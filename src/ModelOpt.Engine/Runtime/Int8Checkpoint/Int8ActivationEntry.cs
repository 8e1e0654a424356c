using ModelOpt.Engine.Graph;
using ModelOpt.Engine.Quantization.Convert;

namespace ModelOpt.Engine.Runtime.Int8Checkpoint;

/// <summary>
/// One quantized activation as checkpoints record it: the value id in the fused graph of the architecture, what
/// produces it (so a rebuilt graph can be checked against it) and its qparams.
/// </summary>
public sealed record Int8ActivationEntry(int Value, string Producer, double Scale, long ZeroPoint, string Dtype, long QuantMin, long QuantMax)
{
    public static IReadOnlyList<Int8ActivationEntry> From(QuantizedGraph quantized) =>
        quantized.Activations
            .OrderBy(kv => kv.Key.Id)
            .Select(kv => new Int8ActivationEntry(
                kv.Key.Id, Describe(quantized.Graph.Producer(kv.Key)), kv.Value.Scale, kv.Value.ZeroPoint,
                kv.Value.Dtype.ToString(), kv.Value.QuantMin, kv.Value.QuantMax))
            .ToList();

    public static string Describe(GraphNode node) => node switch
    {
        InputNode => "input",
        Conv2dNode conv => $"conv2d{(conv.Relu ? "_relu" : "")}:{conv.Name}",
        LinearNode linear => $"linear{(linear.Relu ? "_relu" : "")}:{linear.Name}",
        AddNode add => add.Relu ? "add_relu" : "add",
        ConcatNode => "cat",
        UnaryNode unary => $"{unary.Function.ToString().ToLowerInvariant()}:{unary.Name}",
        MulNode mul => $"mul:{mul.Name}",
        FloatOpNode op => $"{op.Op.OpType.ToLowerInvariant()}:{op.Name}",
        ConstantNode constant => $"constant:{constant.Name}",
        _ => node.GetType().Name,
    };

    public ActivationQuantization ToQuantization() =>
        new(Scale, ZeroPoint, Enum.Parse<ScalarType>(Dtype), QuantMin, QuantMax);
}
