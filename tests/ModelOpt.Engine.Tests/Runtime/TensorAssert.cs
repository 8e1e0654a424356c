namespace ModelOpt.Engine.Tests.Runtime;

internal static class TensorAssert
{
    /// <summary>Same dtype, same shape, same bytes (TorchSharp's <c>equal</c> is element-wise, not <c>torch.equal</c>).</summary>
    public static void BitIdentical(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.dtype, actual.dtype);
        Assert.Equal(expected.shape, actual.shape);
        Assert.True(expected.contiguous().bytes.SequenceEqual(actual.contiguous().bytes), "tensors differ in at least one bit");
    }
}
