namespace ModelOpt.Engine.Graph;

/// <summary>
/// One operation of a captured model, the analogue of a node of <c>torch.export</c>'s ATen graph.
/// Tensors referenced by nodes belong to the model (or to the <see cref="ModelGraph"/> after a pass rewrote them).
/// </summary>
public abstract record GraphNode(GraphValue Output)
{
    public abstract IReadOnlyList<GraphValue> Inputs { get; }
}

public sealed record InputNode(GraphValue Output, long[] Shape) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [];
}

/// <summary>2-D convolution; <see cref="Relu"/> is set once a conv+relu pair has been fused.</summary>
public sealed record Conv2dNode(
    GraphValue Output,
    string Name,
    GraphValue Input,
    Tensor Weight,
    Tensor? Bias,
    long[] Stride,
    long[] Padding,
    long[] Dilation,
    long Groups,
    bool Relu = false) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];

    public long OutChannels => Weight.shape[0];
}

public sealed record BatchNorm2dNode(
    GraphValue Output,
    string Name,
    GraphValue Input,
    Tensor RunningMean,
    Tensor RunningVar,
    Tensor? Weight,
    Tensor? Bias,
    double Eps) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

public sealed record ReLUNode(GraphValue Output, GraphValue Input) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

/// <summary>Element-wise residual add; <see cref="Relu"/> is set once an add+relu pair has been fused.</summary>
public sealed record AddNode(GraphValue Output, GraphValue Left, GraphValue Right, bool Relu = false) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Left, Right];
}

public sealed record AdaptiveAvgPool2dNode(GraphValue Output, GraphValue Input, long[] OutputSize) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

/// <summary>Max pooling; <see cref="CeilMode"/> as PyTorch's <c>ceil_mode</c> (the output size rounded up).</summary>
public sealed record MaxPool2dNode(GraphValue Output, GraphValue Input, long[] KernelSize, long[] Stride, long[] Padding, bool CeilMode = false)
    : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

public sealed record FlattenNode(GraphValue Output, GraphValue Input, long StartDim) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

/// <summary>Fully connected layer; <see cref="Relu"/> is set once a linear+relu pair has been fused.</summary>
public sealed record LinearNode(GraphValue Output, string Name, GraphValue Input, Tensor Weight, Tensor? Bias, bool Relu = false) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

/// <summary>clamp(x, Min, Max): ReLU6 and ONNX Clip. On int8 tensors it keeps its input's qparams.</summary>
public sealed record ClampNode(GraphValue Output, GraphValue Input, double Min, double Max) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

/// <summary>Average pooling; <see cref="CountIncludePad"/> and <see cref="CeilMode"/> as PyTorch's <c>count_include_pad</c> and <c>ceil_mode</c>.</summary>
public sealed record AvgPool2dNode(
    GraphValue Output, GraphValue Input, long[] KernelSize, long[] Stride, long[] Padding, bool CountIncludePad, bool CeilMode = false)
    : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

/// <summary>torch.cat of <see cref="Parts"/> along <see cref="Dim"/>.</summary>
public sealed record ConcatNode(GraphValue Output, IReadOnlyList<GraphValue> Parts, long Dim) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => Parts;
}

/// <summary>
/// An element-wise function without an int8 kernel in LibTorch's x86 set: it runs in FP32 inside an int8 model, with
/// dequantize / quantize at its edges. <see cref="Alpha"/> and <see cref="Beta"/> are the function's ONNX attributes.
/// </summary>
public sealed record UnaryNode(GraphValue Output, string Name, GraphValue Input, UnaryFunction Function, double Alpha = 0, double Beta = 0)
    : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

/// <summary>Broadcasting element-wise product (a squeeze-excite gate); FP32 inside an int8 model.</summary>
public sealed record MulNode(GraphValue Output, string Name, GraphValue Left, GraphValue Right) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Left, Right];
}

/// <summary>Softmax over <see cref="Dim"/>, as a classifier's last op; FP32 inside an int8 model.</summary>
public sealed record SoftmaxNode(GraphValue Output, string Name, GraphValue Input, long Dim) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}
