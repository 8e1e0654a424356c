using System.Runtime.InteropServices;
using ModelOpt.Engine.Data.Uploaded.Npy;

namespace ModelOpt.Engine.Data.Sources;

/// <summary>
/// Images of one .npy array, unpacked once into a temporary file (deleted when closed) and read back per batch at
/// the images' offsets: memory holds one batch, whether the array is uint8 or float32.
/// </summary>
internal sealed class NpyImageSource : IImageSource
{
    private readonly FileStream data;
    private readonly NpyImageLayout layout;
    private readonly long[]? rows;
    private readonly bool ownsData;

    /// <summary>Takes ownership of <paramref name="data"/>, which holds the array's elements from offset 0.</summary>
    public NpyImageSource(FileStream data, NpyImageLayout layout) : this(data, layout, null, ownsData: true)
    {
    }

    private NpyImageSource(FileStream data, NpyImageLayout layout, long[]? rows, bool ownsData)
    {
        this.data = data;
        this.layout = layout;
        this.rows = rows;
        this.ownsData = ownsData;
    }

    public int Count => rows?.Length ?? (int)layout.Count;

    public int Channels => layout.Channels;

    public (int Height, int Width)? ImageSize => (layout.Height, layout.Width);

    public IEnumerable<Tensor> Read(IReadOnlyList<long> indices)
    {
        var imageBytes = (int)layout.ImageBytes;
        var bytes = new byte[indices.Count * imageBytes];
        for (var i = 0; i < indices.Count; i++)
        {
            data.Position = Row(indices[i]) * imageBytes;
            data.ReadExactly(bytes, i * imageBytes, imageBytes);
        }
        using var scope = NewDisposeScope();
        var stored = layout.IsFloat
            ? tensor(MemoryMarshal.Cast<byte, float>(bytes).ToArray(), ShapeAsStored(indices.Count))
            : tensor(bytes, ShapeAsStored(indices.Count), ScalarType.Byte);
        var images = layout.ChannelsLast ? stored.permute(0, 3, 1, 2).contiguous() : stored;
        return [images.MoveToOuterDisposeScope()];
    }

    public IImageSource Subset(IReadOnlyList<long> indices) =>
        new NpyImageSource(data, layout, [.. indices.Select(Row)], ownsData: false);

    private long Row(long index) => rows?[index] ?? index;

    private long[] ShapeAsStored(int count) => layout.ChannelsLast
        ? [count, layout.Height, layout.Width, layout.Channels]
        : [count, layout.Channels, layout.Height, layout.Width];

    public void Dispose()
    {
        if (ownsData)
        {
            data.Dispose();
        }
    }
}
