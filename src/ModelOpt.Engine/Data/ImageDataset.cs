using ModelOpt.Engine.Data.Sources;

namespace ModelOpt.Engine.Data;

/// <summary>
/// An image set: images from an <see cref="IImageSource"/> (uint8 in memory for the built-in sets, decoded on demand
/// from the uploaded file otherwise) and, for a labelled set, int64 (N) labels. The job's transform is applied per
/// batch, so a full Fashion-MNIST split costs 47 MB rather than 245 MB of floats, and an uploaded set only one batch of
/// decoded images. An unlabeled set (<see cref="Unlabeled"/>: images without class folders or y_* arrays) serves
/// calibration and the comparison with the FP32 model; it has 0 <see cref="Classes"/>, and reading its labels throws.
/// </summary>
public sealed class ImageDataset : IDisposable
{
    private readonly IImageSource source;
    private readonly Tensor? labels;

    // False for a view made by WithPreprocessing: the source and labels belong to the dataset it was made from.
    private readonly bool ownsData = true;

    /// <summary>Takes ownership of both tensors.</summary>
    public ImageDataset(string name, Tensor images, Tensor labels, int classes)
        : this(name, new TensorImageSource(images), labels, classes)
    {
    }

    /// <summary>Takes ownership of the source and the labels.</summary>
    public ImageDataset(string name, IImageSource source, Tensor labels, int classes, IReadOnlyList<string>? classNames = null,
        ImagePreprocessing? preprocessing = null)
    {
        if (labels.dtype != ScalarType.Int64 || labels.dim() != 1 || labels.shape[0] != source.Count)
        {
            throw new ArgumentException($"Expected {source.Count} int64 labels, got {labels.dtype} shaped ({string.Join(",", labels.shape)}).", nameof(labels));
        }
        Name = name;
        this.source = source;
        this.labels = labels.DetachFromDisposeScope();
        Classes = classes;
        ClassNames = classNames;
        Preprocessing = preprocessing ?? ImagePreprocessing.Notebook;
    }

    private ImageDataset(string name, IImageSource source, ImagePreprocessing? preprocessing)
    {
        Name = name;
        this.source = source;
        Preprocessing = preprocessing ?? ImagePreprocessing.Notebook;
    }

    /// <summary>A set of images without labels; takes ownership of the source.</summary>
    public static ImageDataset Unlabeled(string name, IImageSource source, ImagePreprocessing? preprocessing = null) =>
        new(name, source, preprocessing);

    public string Name { get; }

    /// <summary>Whether every image has a class label; false for a set of images without class folders or y_* arrays.</summary>
    public bool IsLabeled => labels is not null;

    public int Count => source.Count;

    /// <summary>Number of classes; 0 for an unlabeled set.</summary>
    public int Classes { get; }

    /// <summary>Class names by label (folder names of an ImageFolder zip); null when the set has none (always for an unlabeled set).</summary>
    public IReadOnlyList<string>? ClassNames { get; }

    /// <summary>Channels of the stored images, before the transform.</summary>
    public int Channels => source.Channels;

    /// <summary>Height and width of the stored images when they all share one, else null.</summary>
    public (int Height, int Width)? ImageSize => source.ImageSize;

    /// <summary>The transform every batch goes through.</summary>
    public ImagePreprocessing Preprocessing { get; }

    /// <summary>The stored uint8 images (N,C,H,W) of an in-memory set, before the transform. Owned by the dataset: do not dispose.</summary>
    public Tensor RawImages => source is TensorImageSource memory
        ? memory.Images
        : throw new InvalidOperationException($"{Name} is decoded on demand; it has no in-memory image tensor.");

    /// <summary>The int64 labels (N). Owned by the dataset: do not dispose. Throws <see cref="InvalidOperationException"/> for an unlabeled set.</summary>
    public Tensor Labels => labels ?? throw new InvalidOperationException(
        $"{Name} has no labels: an unlabeled dataset serves calibration and the comparison with the FP32 model, not scoring against labels.");

    /// <summary>The first <paramref name="count"/> images (all when larger): the notebook's <c>Subset(train, range(n))</c> for calibration and training subsets.</summary>
    public ImageDataset Take(int count)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        return Subset(AllIndices()[..Math.Min(count, Count)]);
    }

    /// <summary>The images at <paramref name="indices"/>, in that order; valid while this dataset lives.</summary>
    public ImageDataset Subset(IReadOnlyList<long> indices)
    {
        if (labels is null)
        {
            return Unlabeled(Name, source.Subset(indices), Preprocessing);
        }
        using var index = tensor(indices.ToArray());
        return new ImageDataset(Name, source.Subset(indices), labels.index_select(0, index), Classes, ClassNames, Preprocessing);
    }

    /// <summary>This dataset's images and labels under another transform, sharing them (no copy); valid while this dataset lives.</summary>
    public ImageDataset WithPreprocessing(ImagePreprocessing preprocessing) => new(this, preprocessing);

    private ImageDataset(ImageDataset shared, ImagePreprocessing preprocessing)
    {
        Name = shared.Name;
        source = shared.source;
        labels = shared.labels;
        Classes = shared.Classes;
        ClassNames = shared.ClassNames;
        Preprocessing = preprocessing;
        ownsData = false;
    }

    /// <summary>Images per class label, for checks and reports; throws <see cref="InvalidOperationException"/> for an unlabeled set.</summary>
    public long[] ClassCounts()
    {
        using var counts = Labels.bincount(null, Classes);
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
        var order = AllIndices();
        if (shuffle is not null)
        {
            shuffle.Shuffle(order);
        }
        for (var start = 0; start < Count; start += batchSize)
        {
            yield return Load(new ArraySegment<long>(order, start, Math.Min(batchSize, Count - start)));
        }
    }

    /// <summary>Number of batches <see cref="Batches"/> yields.</summary>
    public int BatchCount(int batchSize) => (Count + batchSize - 1) / batchSize;

    // Built outside the iterator body so that no dispose scope stays open across a yield.
    private ImageBatch Load(IReadOnlyList<long> indices)
    {
        using var scope = NewDisposeScope();
        var runs = source.Read(indices).Select(run => ImageTransform.ToModelInput(run, Preprocessing)).ToList();
        if (runs.Any(r => r.shape[1] != runs[0].shape[1] || r.shape[2] != runs[0].shape[2] || r.shape[3] != runs[0].shape[3]))
        {
            throw new DatasetException($"{Name}: the images differ in size after the transform ({Preprocessing.Describe()}); "
                                       + "give centerCrop or an exact resize (height and width) so that they can be batched.");
        }
        var batchImages = runs.Count == 1 ? runs[0] : cat(runs, 0);
        if (batchImages.shape[0] != indices.Count)
        {
            throw new InvalidOperationException($"{Name}: the source returned {batchImages.shape[0]} images for {indices.Count} indices.");
        }
        var batchLabels = labels?.index_select(0, tensor(indices.ToArray()));
        return new ImageBatch(batchImages.MoveToOuterDisposeScope(), batchLabels?.MoveToOuterDisposeScope());
    }

    private long[] AllIndices()
    {
        var order = new long[Count];
        for (var i = 0; i < order.Length; i++)
        {
            order[i] = i;
        }
        return order;
    }

    public void Dispose()
    {
        if (ownsData)
        {
            source.Dispose();
            labels?.Dispose();
        }
    }
}
