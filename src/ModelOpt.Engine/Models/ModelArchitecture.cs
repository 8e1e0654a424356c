namespace ModelOpt.Engine.Models;

/// <summary>A model the zoo can build: its registry name, what it is, and how to construct it.</summary>
public sealed record ModelArchitecture(string Name, string Description, Func<long, long, CifarResNet> Create)
{
    /// <summary>Trainable parameters for the given input channels and classes (counted on a built instance).</summary>
    public long ParameterCount(long inputChannels, long numClasses)
    {
        using var model = Create(inputChannels, numClasses);
        return model.parameters().Sum(p => p.numel());
    }
}
