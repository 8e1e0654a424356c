namespace ModelOpt.Engine.Tests.Runtime;

/// <summary>Serializes tests that set LibTorch's process-wide quantized engine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class QuantizedEngineCollection
{
    public const string Name = "Quantized engine";
}
