using static ModelOpt.Engine.Export.Onnx.OnnxAttributes;

namespace ModelOpt.Engine.Graph.FloatOps;

/// <summary>
/// An ONNX element-wise op with numpy broadcasting: its ONNX node is the op itself on the same inputs, its eager and
/// TorchScript forms one row of <see cref="Definitions"/> each. Variadic ops (Sum, Mean, Min, Max) fold left.
/// </summary>
public sealed record ElementwiseOp(string Type) : FloatOp
{
    private sealed record Definition(int Arity, Func<IReadOnlyList<Tensor>, Tensor> Evaluate, Func<IReadOnlyList<string>, string> Script);

    private static Definition Unary(Func<Tensor, Tensor> evaluate, string function) =>
        new(1, x => evaluate(x[0]), x => $"{function}({x[0]})");

    private static Definition Binary(Func<Tensor, Tensor, Tensor> evaluate, string function) =>
        new(2, x => evaluate(x[0], x[1]), x => $"{function}({x[0]}, {x[1]})");

    private static Definition Variadic(Func<Tensor, Tensor, Tensor> evaluate, string function) =>
        new(-1, x => x.Skip(1).Aggregate(x[0].alias(), evaluate), x => x.Skip(1).Aggregate(x[0], (a, b) => $"{function}({a}, {b})"));

    private static readonly Dictionary<string, Definition> Definitions = new()
    {
        ["Sqrt"] = Unary(x => x.sqrt(), "torch.sqrt"),
        ["Reciprocal"] = Unary(x => x.reciprocal(), "torch.reciprocal"),
        ["Neg"] = Unary(x => x.neg(), "torch.neg"),
        ["Abs"] = Unary(x => x.abs(), "torch.abs"),
        ["Exp"] = Unary(x => x.exp(), "torch.exp"),
        ["Log"] = Unary(x => x.log(), "torch.log"),
        ["Erf"] = Unary(x => x.erf(), "torch.erf"),
        ["Tanh"] = Unary(x => x.tanh(), "torch.tanh"),
        ["Sigmoid"] = Unary(x => x.sigmoid(), "torch.sigmoid"),
        ["Relu"] = Unary(x => x.relu(), "torch.relu"),
        ["Floor"] = Unary(x => x.floor(), "torch.floor"),
        ["Ceil"] = Unary(x => x.ceil(), "torch.ceil"),
        ["Round"] = Unary(x => x.round(), "torch.round"), // half to even in both, as ONNX asks.
        ["Sign"] = Unary(x => x.sign(), "torch.sign"),
        ["Sin"] = Unary(x => x.sin(), "torch.sin"),
        ["Cos"] = Unary(x => x.cos(), "torch.cos"),
        ["Not"] = Unary(x => x.logical_not(), "torch.logical_not"),
        ["Softsign"] = Unary(x => x / (x.abs() + 1), "torch.nn.functional.softsign"),
        ["Add"] = Binary((a, b) => a + b, "torch.add"),
        ["Sub"] = Binary((a, b) => a - b, "torch.sub"),
        ["Mul"] = Binary((a, b) => a * b, "torch.mul"),
        ["Div"] = Binary(Divide, "torch.div"),
        ["Pow"] = Binary((a, b) => a.pow(b.to_type(a.dtype)), "torch.pow"),
        ["Equal"] = Binary((a, b) => a.eq(b), "torch.eq"),
        ["Less"] = Binary((a, b) => a.lt(b), "torch.lt"),
        ["LessOrEqual"] = Binary((a, b) => a.le(b), "torch.le"),
        ["Greater"] = Binary((a, b) => a.gt(b), "torch.gt"),
        ["GreaterOrEqual"] = Binary((a, b) => a.ge(b), "torch.ge"),
        ["And"] = Binary((a, b) => a.logical_and(b), "torch.logical_and"),
        ["Or"] = Binary((a, b) => a.logical_or(b), "torch.logical_or"),
        ["Xor"] = Binary((a, b) => a.logical_xor(b), "torch.logical_xor"),
        ["PRelu"] = new(2, x => torch.where(x[0] >= 0, x[0], x[0] * x[1]), x => $"torch.where(torch.ge({x[0]}, 0.0), {x[0]}, torch.mul({x[0]}, {x[1]}))"),
        ["Where"] = new(3, x => torch.where(x[0].to_type(ScalarType.Bool), x[1], x[2]), x => $"torch.where({x[0]}, {x[1]}, {x[2]})"),
        ["Sum"] = Variadic((a, b) => a + b, "torch.add"),
        ["Min"] = Variadic((a, b) => a.minimum(b), "torch.minimum"),
        ["Max"] = Variadic((a, b) => a.maximum(b), "torch.maximum"),
    };

    /// <summary>The op types this record maps.</summary>
    public static IEnumerable<string> Types => Definitions.Keys;

    /// <summary>How many operands the op takes; -1 for one or more.</summary>
    public static int ArityOf(string type) => Definitions[type].Arity;

    public override string OpType => Type;

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) => Definitions[Type].Evaluate(operands);

    public override string TorchScript(IReadOnlyList<string> operands) => Definitions[Type].Script(operands);

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) => sink.Node(Type, operands);

    // ONNX Div on integers truncates (shape arithmetic); on floats it is true division.
    private static Tensor Divide(Tensor a, Tensor b) =>
        a.is_floating_point() || b.is_floating_point() ? a / b : a.div(b, rounding_mode: RoundingMode.trunc);
}

/// <summary>ONNX Mod: fmod=1 is C's fmod (sign of the dividend), fmod=0 Python's % (sign of the divisor).</summary>
public sealed record ModOp(bool Fmod) : FloatOp
{
    public override string OpType => "Mod";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) =>
        Fmod ? operands[0].fmod(operands[1]) : operands[0].remainder(operands[1]);

    public override string TorchScript(IReadOnlyList<string> operands) =>
        $"{(Fmod ? "torch.fmod" : "torch.remainder")}({operands[0]}, {operands[1]})";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands) => sink.Node("Mod", operands, Int("fmod", Fmod ? 1 : 0));
}

/// <summary>An element-wise activation with ONNX float attributes (Elu, Selu, LeakyRelu, HardSigmoid, ThresholdedRelu, Softplus, Celu, Gelu).</summary>
public sealed record ActivationOp(string Type, double Alpha = 0, double Beta = 0, bool TanhApproximation = false) : FloatOp
{
    public override string OpType => Type;

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands)
    {
        var x = operands[0];
        return Type switch
        {
            "Elu" => torch.where(x > 0, x, (x.exp() - 1) * Alpha),
            "Celu" => x.clamp_min(0) + ((x / Alpha).exp() - 1).mul(Alpha).clamp_max(0),
            "Selu" => torch.where(x > 0, x * Beta, (x.exp() * Alpha - Alpha) * Beta),
            "LeakyRelu" => torch.where(x >= 0, x, x * Alpha),
            "HardSigmoid" => (x * Alpha + Beta).clamp(0, 1),
            "ThresholdedRelu" => torch.where(x > Alpha, x, zeros_like(x)),
            "Softplus" => (x.exp() + 1).log(),
            "Gelu" => TanhApproximation
                ? x * 0.5 * (((x + x.pow(3) * 0.044715) * Math.Sqrt(2 / Math.PI)).tanh() + 1)
                : x * 0.5 * ((x * (1 / Math.Sqrt(2))).erf() + 1),
            _ => throw new NotSupportedException($"No activation {Type}."),
        };
    }

    public override string TorchScript(IReadOnlyList<string> operands)
    {
        var x = operands[0];
        var (a, b) = (ScriptFloat(Alpha), ScriptFloat(Beta));
        return Type switch
        {
            "Elu" => $"torch.where(torch.gt({x}, 0.0), {x}, torch.mul(torch.sub(torch.exp({x}), 1.0), {a}))",
            "Celu" => $"torch.add(torch.clamp_min({x}, 0.0), torch.clamp_max(torch.mul(torch.sub(torch.exp(torch.div({x}, {a})), 1.0), {a}), 0.0))",
            "Selu" => $"torch.where(torch.gt({x}, 0.0), torch.mul({x}, {b}), torch.mul(torch.sub(torch.mul(torch.exp({x}), {a}), {a}), {b}))",
            "LeakyRelu" => $"torch.where(torch.ge({x}, 0.0), {x}, torch.mul({x}, {a}))",
            "HardSigmoid" => $"torch.clamp(torch.add(torch.mul({x}, {a}), {b}), 0.0, 1.0)",
            "ThresholdedRelu" => $"torch.where(torch.gt({x}, {a}), {x}, torch.zeros_like({x}))",
            "Softplus" => $"torch.log(torch.add(torch.exp({x}), 1.0))",
            "Gelu" => $"torch.gelu({x}, approximate={(TanhApproximation ? "'tanh'" : "'none'")})",
            _ => throw new NotSupportedException($"No activation {Type}."),
        };
    }

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands)
    {
        var x = operands[0];
        switch (Type)
        {
            case "Gelu":
            {
                // Gelu is an ONNX op from opset 20 only: written out as the exporters of older opsets write it.
                using var half = torch.tensor(0.5f);
                using var one = torch.tensor(1f);
                var inner = TanhApproximation
                    ? GeluTanhInner(sink, x)
                    : sink.Node("Erf", [sink.Node("Div", [x, Scalar(sink, "gelu.sqrt2", (float)Math.Sqrt(2))])]);
                var gate = sink.Node("Add", [inner, sink.Constant("gelu.one", one)]);
                return sink.Node("Mul", [sink.Node("Mul", [x, gate]), sink.Constant("gelu.half", half)]);
            }
            case "Softplus" or "Selu" or "Elu" or "Celu" or "ThresholdedRelu":
                return sink.Node(Type, [x], Type switch
                {
                    "Softplus" => [],
                    "Selu" => [Float("alpha", (float)Alpha), Float("gamma", (float)Beta)],
                    _ => [Float("alpha", (float)Alpha)],
                });
            case "LeakyRelu":
                return sink.Node(Type, [x], Float("alpha", (float)Alpha));
            case "HardSigmoid":
                return sink.Node(Type, [x], Float("alpha", (float)Alpha), Float("beta", (float)Beta));
            default:
                throw new NotSupportedException($"No activation {Type}.");
        }
    }

    private static string Scalar(IOnnxNodeSink sink, string name, float value)
    {
        using var t = torch.tensor(value);
        return sink.Constant(name, t);
    }

    private static string GeluTanhInner(IOnnxNodeSink sink, string x)
    {
        var cube = sink.Node("Mul", [sink.Node("Mul", [x, x]), x]);
        var sum = sink.Node("Add", [x, sink.Node("Mul", [cube, Scalar(sink, "gelu.c", 0.044715f)])]);
        return sink.Node("Tanh", [sink.Node("Mul", [sum, Scalar(sink, "gelu.k", (float)Math.Sqrt(2 / Math.PI))])]);
    }
}

/// <summary>
/// Cast of a value to float32, int64 or bool (the importer's types); a cast to float16 or bfloat16 rounds through
/// that type (<see cref="Through"/>) as ONNX's does, then reads it as float32 again.
/// </summary>
public sealed record CastOp(ScalarType To, int OnnxTo, ScalarType? Through = null) : FloatOp
{
    public override string OpType => "Cast";

    public override Tensor Evaluate(IReadOnlyList<Tensor> operands) =>
        Through is { } through ? operands[0].to_type(through).to_type(To) : operands[0].to_type(To);

    public override string TorchScript(IReadOnlyList<string> operands) =>
        Through is { } through ? $"{operands[0]}.to({(int)through}).to({(int)To})" : $"{operands[0]}.to({(int)To})";

    public override string Onnx(IOnnxNodeSink sink, IReadOnlyList<string> operands)
    {
        var cast = sink.Node("Cast", operands, Int("to", OnnxTo));
        // The exporter's graph computes in float32: a float16 / bfloat16 result is read back as float.
        return Through is null ? cast : sink.Node("Cast", [cast], Int("to", 1));
    }
}
