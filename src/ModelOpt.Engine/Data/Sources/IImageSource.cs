namespace ModelOpt.Engine.Data.Sources;

/// <summary>
/// Where a dataset's images come from: a tensor in memory (built-in sets) or a file read on demand (uploaded sets),
/// so that only the images of one batch are ever decoded and transformed at a time. Not thread-safe.
/// </summary>
public interface IImageSource : IDisposable
{
    int Count { get; }

    int Channels { get; }

    /// <summary>Height and width shared by every image, or null when sizes vary.</summary>
    (int Height, int Width)? ImageSize { get; }

    /// <summary>
    /// The images at <paramref name="indices"/>, in that order, as uint8 (0-255) or float32 ([0,1]) (n,C,H,W) runs of
    /// equal-sized images; the caller owns the tensors.
    /// </summary>
    IEnumerable<Tensor> Read(IReadOnlyList<long> indices);

    /// <summary>The images at <paramref name="indices"/> as a source of their own, valid while this source lives.</summary>
    IImageSource Subset(IReadOnlyList<long> indices);
}
