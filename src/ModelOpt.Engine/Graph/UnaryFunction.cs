namespace ModelOpt.Engine.Graph;

/// <summary>The element-wise functions of <see cref="UnaryNode"/>.</summary>
public enum UnaryFunction
{
    Sigmoid,

    /// <summary>clamp(Alpha * x + Beta, 0, 1): ONNX HardSigmoid (PyTorch's hardsigmoid is Alpha 1/6, Beta 0.5).</summary>
    HardSigmoid,

    /// <summary>x * relu6(x + 3) / 6.</summary>
    HardSwish,

    /// <summary>max(0, x) + Alpha * min(0, x).</summary>
    LeakyRelu,
}
