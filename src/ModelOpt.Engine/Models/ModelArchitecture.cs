namespace ModelOpt.Engine.Models;

/// <summary>A model the zoo can build: its registry name, what it is, and how to construct it.</summary>
/// <param name="Build">Constructs it for the given input channels, classes and device (null: the default, CPU).</param>
public sealed record ModelArchitecture(string Name, string Description, Func<long, long, Device?, ZooModel> Build)
{
    /// <summary>A freshly initialised instance on the CPU.</summary>
    public ZooModel Create(long inputChannels, long numClasses) => Build(inputChannels, numClasses, null);

    /// <summary>An instance on the meta device: the state_dict's names, shapes and dtypes without allocating any weights.</summary>
    public ZooModel CreateMeta(long inputChannels, long numClasses) => Build(inputChannels, numClasses, META);

    /// <summary>Trainable parameters for the given input channels and classes (counted on a meta-device instance: no weights are allocated).</summary>
    public long ParameterCount(long inputChannels, long numClasses)
    {
        using var model = CreateMeta(inputChannels, numClasses);
        return model.parameters().Sum(p => p.numel());
    }
}
