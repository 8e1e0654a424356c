using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Graph;

/// <summary>
/// Runs a <see cref="ModelGraph"/> in FP32 with eager TorchSharp ops. Calibration passes an observer callback that
/// sees every value as it is produced; BN-folding and fusion are checked against the source module with it.
/// </summary>
public static class GraphInterpreter
{
    public static Tensor Run(ModelGraph graph, Tensor input, Action<GraphValue, Tensor>? observe = null)
    {
        using var scope = NewDisposeScope();
        var values = new Dictionary<GraphValue, Tensor>();
        foreach (var node in graph.Nodes)
        {
            var output = node switch
            {
                InputNode => input.alias(),
                Conv2dNode conv => Relu(conv.Relu, functional.conv2d(
                    values[conv.Input], conv.Weight, conv.Bias, conv.Stride, conv.Padding, conv.Dilation, conv.Groups)),
                BatchNorm2dNode bn => functional.batch_norm(
                    values[bn.Input], bn.RunningMean, bn.RunningVar, bn.Weight, bn.Bias, training: false, eps: bn.Eps),
                ReLUNode relu => functional.relu(values[relu.Input]),
                AddNode add => Relu(add.Relu, values[add.Left] + values[add.Right]),
                AdaptiveAvgPool2dNode pool => functional.adaptive_avg_pool2d(values[pool.Input], pool.OutputSize),
                MaxPool2dNode pool => functional.max_pool2d(values[pool.Input], pool.KernelSize, pool.Stride, pool.Padding),
                FlattenNode flatten => values[flatten.Input].flatten(flatten.StartDim),
                LinearNode linear => functional.linear(values[linear.Input], linear.Weight, linear.Bias),
                _ => throw new NotSupportedException($"No FP32 kernel for {node.GetType().Name}."),
            };
            values[node.Output] = output;
            observe?.Invoke(node.Output, output);
        }
        return values[graph.Output].MoveToOuterDisposeScope();
    }

    private static Tensor Relu(bool apply, Tensor x) => apply ? functional.relu(x) : x;
}
