using ModelOpt.Engine.Runtime;

namespace ModelOpt.Engine.Tests.Runtime;

[Collection(QuantizedEngineCollection.Name)]
public class QuantizedEngineTests
{
    [Fact]
    public void Engine_setting_round_trips()
    {
        var original = QuantizedEngine.Current;
        try
        {
            Assert.Contains(QEngine.X86, QuantizedEngine.Supported);
            foreach (var engine in QuantizedEngine.Supported)
            {
                QuantizedEngine.Current = engine;
                Assert.Equal(engine, QuantizedEngine.Current);
            }
        }
        finally
        {
            QuantizedEngine.Current = original;
        }
    }

    [Fact]
    public void Unsupported_engine_is_rejected_before_reaching_LibTorch()
    {
        Assert.Throws<ArgumentException>(() => QuantizedEngine.Current = QEngine.NoQEngine);
    }
}
