using TorchSharp.Modules;
using static TorchSharp.torch.nn;

namespace ModelOpt.Engine.Graph;

/// <summary>
/// Records the nodes an <see cref="ITraceable"/> model emits. Node names are the modules' qualified
/// state_dict prefixes (<c>layer2.0.downsample.0</c>), looked up by reference in the root module.
/// </summary>
public sealed class GraphBuilder
{
    private readonly Dictionary<object, string> names = new(ReferenceEqualityComparer.Instance);
    private readonly List<GraphNode> nodes = [];
    private int nextValue;

    private GraphBuilder(Module root)
    {
        foreach (var (name, module) in root.named_modules())
        {
            names[module] = name;
        }
    }

    /// <summary>Captures <paramref name="model"/> for inputs of <paramref name="inputShape"/> (N may be any batch size).</summary>
    public static ModelGraph Capture<TModel>(TModel model, long[] inputShape) where TModel : Module, ITraceable
    {
        var builder = new GraphBuilder(model);
        var input = builder.Add(v => new InputNode(v, inputShape));
        var output = model.Trace(builder, input);
        return new ModelGraph(builder.nodes, input, output);
    }

    public GraphValue Conv(Conv2d conv, GraphValue input) => Add(v => new Conv2dNode(
        v, NameOf(conv), input, conv.weight!, conv.bias, conv.stride, conv.padding ?? throw new NotSupportedException($"{NameOf(conv)}: string padding modes are not supported."), conv.dilation, conv.groups));

    public GraphValue BatchNorm(BatchNorm2d bn, GraphValue input) => Add(v => new BatchNorm2dNode(
        v, NameOf(bn), input, bn.running_mean!, bn.running_var!, bn.weight, bn.bias, bn.eps));

    public GraphValue ReLU(GraphValue input) => Add(v => new ReLUNode(v, input));

    public GraphValue Add(GraphValue left, GraphValue right) => Add(v => new AddNode(v, left, right));

    /// <summary>clamp(x, min, max): ReLU6 is Clamp(x, 0, 6).</summary>
    public GraphValue Clamp(GraphValue input, double min, double max) => Add(v => new ClampNode(v, input, min, max));

    public GraphValue AdaptiveAvgPool(GraphValue input, long[] outputSize) => Add(v => new AdaptiveAvgPool2dNode(v, input, outputSize));

    public GraphValue MaxPool(GraphValue input, long[] kernelSize, long[] stride, long[] padding) =>
        Add(v => new MaxPool2dNode(v, input, kernelSize, stride, padding));

    public GraphValue Flatten(GraphValue input, long startDim = 1) => Add(v => new FlattenNode(v, input, startDim));

    public GraphValue Linear(Linear linear, GraphValue input) => Add(v => new LinearNode(v, NameOf(linear), input, linear.weight!, linear.bias));

    private string NameOf(Module module) =>
        names.TryGetValue(module, out var name) ? name : throw new InvalidOperationException($"Module {module.GetName()} is not part of the traced model.");

    private GraphValue Add(Func<GraphValue, GraphNode> create)
    {
        var value = new GraphValue(nextValue++);
        nodes.Add(create(value));
        return value;
    }
}
