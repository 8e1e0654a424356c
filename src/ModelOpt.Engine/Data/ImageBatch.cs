namespace ModelOpt.Engine.Data;

/// <summary>
/// One batch ready for a model: transformed float32 images (N,C,H,W) and, from a labelled set, int64 labels (N).
/// A batch of an unlabeled set carries no label tensor at all (no placeholder that could pass for labels):
/// <see cref="Labels"/> throws there, so code that scores against labels cannot run on it by mistake.
/// The consumer owns the tensors: dispose the batch, or let an enclosing dispose scope take them.
/// </summary>
public sealed class ImageBatch : IDisposable
{
    private readonly Tensor? labels;

    /// <param name="labels">Null for a batch of an unlabeled set.</param>
    public ImageBatch(Tensor images, Tensor? labels)
    {
        Images = images;
        this.labels = labels;
    }

    public Tensor Images { get; }

    /// <summary>Whether the batch carries labels (false for a batch of an unlabeled set).</summary>
    public bool IsLabeled => labels is not null;

    /// <summary>The int64 labels (N); throws <see cref="InvalidOperationException"/> for a batch of an unlabeled set.</summary>
    public Tensor Labels => labels ?? throw new InvalidOperationException(
        "This batch comes from a dataset without labels: it can be calibrated on and compared with the FP32 model, not scored against labels.");

    public long Count => Images.shape[0];

    public void Dispose()
    {
        Images.Dispose();
        labels?.Dispose();
    }
}
