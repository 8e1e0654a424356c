using System.IO.Compression;
using ModelOpt.Engine.Data.Uploaded;

namespace ModelOpt.Engine.Data.Sources;

/// <summary>
/// Images of an ImageFolder zip, decoded from their entries each time a batch asks for them: memory holds the zip's
/// directory and one batch of pixels, however many images the set has.
/// </summary>
internal sealed class ZipImageSource : IImageSource
{
    private readonly ZipArchive? ownedArchive;
    private readonly IReadOnlyList<ZipArchiveEntry> entries;
    private readonly DatasetFileLimits limits;

    /// <param name="ownedArchive">The archive the entries belong to when this source is to dispose it; null when another source owns it.</param>
    public ZipImageSource(ZipArchive? ownedArchive, IReadOnlyList<ZipArchiveEntry> entries, int channels, (int, int)? imageSize, DatasetFileLimits limits)
    {
        this.ownedArchive = ownedArchive;
        this.entries = entries;
        Channels = channels;
        ImageSize = imageSize;
        this.limits = limits;
    }

    public int Count => entries.Count;

    public int Channels { get; }

    public (int Height, int Width)? ImageSize { get; }

    /// <summary>Consecutive images of one size become one (n,C,H,W) tensor.</summary>
    public IEnumerable<Tensor> Read(IReadOnlyList<long> indices)
    {
        var runs = new List<Tensor>();
        var pending = new List<DecodedImage>();
        foreach (var index in indices)
        {
            var entry = entries[(int)index];
            using var content = entry.Open();
            var image = ImageFileDecoder.Decode(content, entry.FullName, limits);
            if (pending.Count > 0 && (pending[0].Height != image.Height || pending[0].Width != image.Width))
            {
                runs.Add(Stack(pending));
                pending.Clear();
            }
            pending.Add(image);
        }
        if (pending.Count > 0)
        {
            runs.Add(Stack(pending));
        }
        return runs;
    }

    public IImageSource Subset(IReadOnlyList<long> indices) =>
        new ZipImageSource(null, indices.Select(i => entries[(int)i]).ToList(), Channels, ImageSize, limits);

    private Tensor Stack(List<DecodedImage> images)
    {
        var (height, width) = (images[0].Height, images[0].Width);
        var imageBytes = Channels * height * width;
        var pixels = new byte[images.Count * imageBytes];
        for (var i = 0; i < images.Count; i++)
        {
            images[i].Planes(Channels).CopyTo(pixels, i * imageBytes);
        }
        return tensor(pixels, [images.Count, Channels, height, width], ScalarType.Byte);
    }

    public void Dispose() => ownedArchive?.Dispose();
}
