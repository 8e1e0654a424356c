using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Graph;

/// <summary>
/// Runs a <see cref="ModelGraph"/> in FP32 with eager TorchSharp ops. Calibration passes an observer callback that
/// sees every value as it is produced; BN-folding and fusion are checked against the source module with it.
/// Each value is freed after its last use (<see cref="ModelGraph.LastUses"/>), and each node's temporaries when it has
/// run, so a pass holds only the values still to be read rather than every activation of the network.
/// </summary>
public static class GraphInterpreter
{
    /// <summary>The graph's first output (<see cref="ModelGraph.Output"/>); <see cref="RunAll"/> gives every output.</summary>
    /// <param name="observe">Sees each value once it is produced; it must take an alias of any tensor it keeps.</param>
    public static Tensor Run(ModelGraph graph, Tensor input, Action<GraphValue, Tensor>? observe = null)
    {
        using var scope = NewDisposeScope();
        return Values(graph, input, observe)[graph.Output].MoveToOuterDisposeScope();
    }

    /// <summary>Every output of the graph, in <see cref="ModelGraph.Outputs"/> order (the caller owns them).</summary>
    /// <inheritdoc cref="Run" path="/param"/>
    public static Tensor[] RunAll(ModelGraph graph, Tensor input, Action<GraphValue, Tensor>? observe = null)
    {
        using var scope = NewDisposeScope();
        var values = Values(graph, input, observe);
        // One value may be two outputs: each gets its own handle.
        return [.. graph.Outputs.Select(o => values[o].alias().MoveToOuterDisposeScope())];
    }

    // The outputs' values remain; everything else is freed after its last use. The caller's scope owns them.
    // Without an observer (which may keep aliases) and without autograd (clamp's gradient reads its input), a ReLU or
    // clamp overwrites the fresh output it alone reads (ModelGraph.InPlaceActivations) instead of allocating another.
    private static Dictionary<GraphValue, Tensor> Values(ModelGraph graph, Tensor input, Action<GraphValue, Tensor>? observe)
    {
        var values = new Dictionary<GraphValue, Tensor>();
        var inPlace = observe is null && !is_grad_enabled() ? graph.InPlaceActivations : null;
        for (var i = 0; i < graph.Nodes.Count; i++)
        {
            var node = graph.Nodes[i];
            var output = node is InputNode ? input.alias()
                : inPlace?[i] == true ? ActivateInPlace(node, values)
                : EvaluateAndFreeTemporaries(node, v => values[v]);
            values[node.Output] = output;
            observe?.Invoke(node.Output, output);
            FreeLastUses(values, graph.LastUses[i]);
        }
        return values;
    }

    /// <summary>Disposes the values a node read for the last time (see <see cref="ModelGraph.LastUses"/>).</summary>
    internal static void FreeLastUses(Dictionary<GraphValue, Tensor> values, IReadOnlyList<GraphValue> lastUsed)
    {
        foreach (var value in lastUsed)
        {
            if (values.Remove(value, out var tensor))
            {
                tensor.Dispose();
            }
        }
    }

    /// <summary>One node's FP32 output from its inputs' values (the caller's dispose scope owns the result).</summary>
    public static Tensor Evaluate(GraphNode node, Func<GraphValue, Tensor> value) => node switch
    {
        Conv2dNode conv => Relu(conv.Relu, functional.conv2d(
            value(conv.Input), conv.Weight, conv.Bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups)),
        BatchNorm2dNode bn => functional.batch_norm(
            value(bn.Input), bn.RunningMean, bn.RunningVar, bn.Weight, bn.Bias, training: false, eps: bn.Eps),
        ReLUNode relu => functional.relu(value(relu.Input)),
        AddNode add => Relu(add.Relu, value(add.Left) + value(add.Right)),
        LinearNode linear => Relu(linear.Relu, functional.linear(value(linear.Input), linear.Weight, linear.Bias)),
        _ => EvaluateShared(node, value),
    };

    /// <summary>
    /// The ops whose FP32 result is also what the int8 backends compute on dequantized values (pooling, clamp, cat,
    /// flatten) or that stay FP32 there (unary functions); the fake-quantized interpreter uses these too.
    /// </summary>
    public static Tensor EvaluateShared(GraphNode node, Func<GraphValue, Tensor> value) => node switch
    {
        AdaptiveAvgPool2dNode pool => functional.adaptive_avg_pool2d(value(pool.Input), pool.OutputSize),
        MaxPool2dNode pool => functional.max_pool2d(value(pool.Input), pool.KernelSize, pool.Stride, pool.Padding, ceil_mode: pool.CeilMode),
        AvgPool2dNode pool => functional.avg_pool2d(
            value(pool.Input), pool.KernelSize, pool.Stride, pool.Padding, ceil_mode: pool.CeilMode, count_include_pad: pool.CountIncludePad),
        FlattenNode flatten => value(flatten.Input).flatten(flatten.StartDim),
        ClampNode clamp => value(clamp.Input).clamp(clamp.Min, clamp.Max),
        ConcatNode concat => cat(concat.Parts.Select(value).ToList(), concat.Dim),
        MulNode mul => value(mul.Left) * value(mul.Right),
        SoftmaxNode softmax => functional.softmax(value(softmax.Input), softmax.Dim),
        UnaryNode unary => Unary(unary, value(unary.Input)),
        ReLUNode relu => functional.relu(value(relu.Input)),
        ConstantNode constant => constant.Value.alias(),
        FloatOpNode op => op.Op.Evaluate(op.Operands.Select(value).ToList()),
        _ => throw new NotSupportedException($"No FP32 kernel for {node.GetType().Name}."),
    };

    private static Tensor Unary(UnaryNode node, Tensor x) => node.Function switch
    {
        UnaryFunction.Sigmoid => functional.sigmoid(x),
        UnaryFunction.HardSigmoid => (x * node.Alpha + node.Beta).clamp(0, 1),
        UnaryFunction.HardSwish => functional.hardswish(x),
        UnaryFunction.LeakyRelu => functional.leaky_relu(x, node.Alpha),
        _ => throw new NotSupportedException($"No FP32 kernel for {node.Function}."),
    };

    // The input leaves the table: the node's output is the same tensor, which its last-use entry must not free.
    private static Tensor ActivateInPlace(GraphNode node, Dictionary<GraphValue, Tensor> values)
    {
        values.Remove(node.Inputs[0], out var x);
        return node switch
        {
            ReLUNode => x!.relu_(),
            ClampNode clamp => x!.clamp_(clamp.Min, clamp.Max),
            _ => throw new InvalidOperationException($"{node.GetType().Name} has no in-place form."),
        };
    }

    private static Tensor EvaluateAndFreeTemporaries(GraphNode node, Func<GraphValue, Tensor> value)
    {
        using var scope = NewDisposeScope();
        return Evaluate(node, value).MoveToOuterDisposeScope();
    }

    // x is the conv's, add's or linear's own fresh output: overwriting it saves an allocation.
    private static Tensor Relu(bool apply, Tensor x) => apply ? x.relu_() : x;
}
