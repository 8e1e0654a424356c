namespace ModelOpt.Engine.Data;

/// <summary>
/// A labelled image set held in memory as uint8 (N,C,H,W) images and int64 (N) labels; the notebook's transform is
/// applied per batch, so a full Fashion-MNIST split costs 47 MB rather than 245 MB of floats.
/// </summary>
public sealed class ImageDataset : IDisposable
{
    private readonly Tensor images;
    private readonly Tensor labels;

    /// <summary>Takes ownership of both tensors.</summary>
    public ImageDataset(string name, Tensor images, Tensor labels, int classes)
    {
        if (images.dtype != ScalarType.Byte || images.dim() != 4)
        {
            throw new ArgumentException($"Expected uint8 images shaped (N,C,H,W), got {images.dtype} with {images.dim()} dims.", nameof(images));
        }
        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != images.shape[0])
        {
            throw new ArgumentException($"Expected {images.shape[0]} int64 labels, got {labels.dtype} shaped ({string.Join(",", labels.shape)}).", nameof(labels));
        }
        Name = name;
        this.images = images.DetachFromDisposeScope();
        this.labels = labels.DetachFromDisposeScope();
        Classes = classes;
    }

    public string Name { get; }

    public int Count => (int)images.shape[0];

    public int Classes { get; }

    public int Channels => (int)images.shape[1];

    /// <summary>The stored uint8 images (N,C,H,W), before the transform. Owned by the dataset: do not dispose.</summary>
    public Tensor RawImages => images;

    /// <summary>The int64 labels (N). Owned by the dataset: do not dispose.</summary>
    public Tensor Labels => labels;

    /// <summary>The first <paramref name="count"/> images (all when larger): the notebook's <c>Subset(train, range(n))</c> for calibration and training subsets.</summary>
    public ImageDataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        var n = Math.Min(count, Count);
        return new ImageDataset(Name, images.narrow(0, 0, n).clone(), labels.narrow(0, 0, n).clone(), Classes);
    }

    /// <summary>Images per class label, for checks and reports.</summary>
    public long[] ClassCounts()
    {
        using var counts = labels.bincount(null, Classes);
        return counts.data<long>().ToArray();
    }

    /// <summary>
    /// Transformed batches in stored order (test, calibration), or in a random order drawn from <paramref name="shuffle"/>
    /// (training; pass one seeded <see cref="Random"/> for the whole run so each epoch differs yet the run is reproducible).
    /// The last batch may be smaller. Each batch belongs to the consumer.
    /// </summary>
    public IEnumerable<ImageBatch> Batches(int batchSize, Random? shuffle = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        var order = shuffle is null ? null : Permutation(Count, shuffle);
        for (var start = 0; start < Count; start += batchSize)
        {
            var size = Math.Min(batchSize, Count - start);
            yield return order is null ? Slice(start, size) : Gather(order, start, size);
        }
    }

    /// <summary>Number of batches <see cref="Batches"/> yields.</summary>
    public int BatchCount(int batchSize) => (Count + batchSize - 1) / batchSize;

    // Built outside the iterator body so that no dispose scope stays open across a yield.
    private ImageBatch Slice(int start, int size)
    {
        using var scope = NewDisposeScope();
        var batchImages = ImageTransform.ToModelInput(images.narrow(0, start, size));
        var batchLabels = labels.narrow(0, start, size).clone();
        return new ImageBatch(batchImages.MoveToOuterDisposeScope(), batchLabels.MoveToOuterDisposeScope());
    }

    private ImageBatch Gather(long[] order, int start, int size)
    {
        using var scope = NewDisposeScope();
        var index = tensor(order.AsSpan(start, size).ToArray());
        var batchImages = ImageTransform.ToModelInput(images.index_select(0, index));
        var batchLabels = labels.index_select(0, index);
        return new ImageBatch(batchImages.MoveToOuterDisposeScope(), batchLabels.MoveToOuterDisposeScope());
    }

    private static long[] Permutation(int count, Random random)
    {
        var order = new long[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }
        random.Shuffle(order);
        return order;
    }

    public void Dispose()
    {
        images.Dispose();
        labels.Dispose();
    }
}
