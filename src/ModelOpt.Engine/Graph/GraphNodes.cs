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

public sealed record MaxPool2dNode(GraphValue Output, GraphValue Input, long[] KernelSize, long[] Stride, long[] Padding) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

public sealed record FlattenNode(GraphValue Output, GraphValue Input, long StartDim) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}

public sealed record LinearNode(GraphValue Output, string Name, GraphValue Input, Tensor Weight, Tensor? Bias) : GraphNode(Output)
{
    public override IReadOnlyList<GraphValue> Inputs => [Input];
}
