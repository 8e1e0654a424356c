namespace ModelOpt.Engine.Data.Sources;

/// <summary>Images held in memory as one uint8 (N,C,H,W) tensor, which this source owns.</summary>
public sealed class TensorImageSource : IImageSource
{
    public TensorImageSource(Tensor images)
    {
        if (images.dtype != ScalarType.Byte || images.dim() != 4)
        {
            throw new ArgumentException($"Expected uint8 images shaped (N,C,H,W), got {images.dtype} with {images.dim()} dims.", nameof(images));
        }
        Images = images.DetachFromDisposeScope();
    }

    /// <summary>The stored images. Owned by the source: do not dispose.</summary>
    public Tensor Images { get; }

    public int Count => (int)Images.shape[0];

    public int Channels => (int)Images.shape[1];

    public (int Height, int Width)? ImageSize => ((int)Images.shape[2], (int)Images.shape[3]);

    public IEnumerable<Tensor> Read(IReadOnlyList<long> indices)
    {
        using var index = tensor(indices.ToArray());
        return [Images.index_select(0, index)];
    }

    /// <summary>A copy of the selected images (a few MB at most for a calibration or test subset).</summary>
    public IImageSource Subset(IReadOnlyList<long> indices)
    {
        using var index = tensor(indices.ToArray());
        return new TensorImageSource(Images.index_select(0, index));
    }

    public void Dispose() => Images.Dispose();
}
