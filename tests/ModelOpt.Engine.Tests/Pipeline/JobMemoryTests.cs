using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Engine.Tests.Pipeline;

public sealed class JobMemoryTests : IDisposable
{
    private readonly string file = Path.GetTempFileName();

    [Fact]
    public void The_same_file_is_opened_once_and_a_rewritten_file_is_opened_again()
    {
        using var memory = new JobMemory();
        var opened = 0;
        Opened Open()
        {
            opened++;
            return new Opened();
        }

        var first = memory.Get("fp32", JobMemory.FileIdentity(file), Open);
        var again = memory.Get("fp32", JobMemory.FileIdentity(file), Open);
        File.WriteAllText(file, "a new checkpoint");
        var reread = memory.Get("fp32", JobMemory.FileIdentity(file), Open);

        Assert.Same(first, again);
        Assert.Equal(2, opened);
        Assert.True(first.Disposed);
        Assert.False(reread.Disposed);
        memory.Dispose();
        Assert.True(reread.Disposed);
    }

    [Fact]
    public void What_is_opened_outlives_the_caller_s_dispose_scope()
    {
        using var memory = new JobMemory();
        Tensor kept;
        using (NewDisposeScope())
        {
            kept = memory.Get("tensor", "ones", () => new TensorHolder(ones(3))).Tensor;
        }

        Assert.False(kept.IsInvalid);
        Assert.Equal(3, kept.sum().item<float>());
    }

    public void Dispose() => File.Delete(file);

    private sealed class Opened : IDisposable
    {
        public bool Disposed { get; private set; }

        public void Dispose() => Disposed = true;
    }

    private sealed class TensorHolder(Tensor tensor) : IDisposable
    {
        public Tensor Tensor { get; } = tensor;

        public void Dispose() => Tensor.Dispose();
    }
}
