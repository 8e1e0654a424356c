using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Tests.Data;

/// <summary>Loads the installed Fashion-MNIST once per test class (about a second of gunzip).</summary>
public sealed class FashionMnistFixture : IDisposable
{
    public DatasetSplits Splits { get; } = FashionMnist.Load();

    public void Dispose() => Splits.Dispose();
}
