namespace ModelOpt.Engine.Data;

/// <summary>
/// One batch ready for a model: transformed float32 images (N,C,32,32) and int64 labels (N).
/// The consumer owns both tensors: dispose the batch, or let an enclosing dispose scope take them.
/// </summary>
public sealed record ImageBatch(Tensor Images, Tensor Labels) : IDisposable
{
    public long Count => Labels.shape[0];

    public void Dispose()
    {
        Images.Dispose();
        Labels.Dispose();
    }
}
