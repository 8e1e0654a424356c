using System.Runtime.InteropServices;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.Formats.Bmp;
using SixLabors.ImageSharp.Formats.Jpeg;
using SixLabors.ImageSharp.Formats.Png;
using SixLabors.ImageSharp.PixelFormats;

namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>A decoded image: RGB pixels, row-major, 3 bytes each.</summary>
internal sealed record DecodedImage(int Height, int Width, byte[] Rgb)
{
    /// <summary>Whether every pixel has R = G = B, i.e. the image holds one channel's worth of information.</summary>
    public bool IsGrey()
    {
        for (var p = 0; p < Rgb.Length; p += 3)
        {
            if (Rgb[p] != Rgb[p + 1] || Rgb[p] != Rgb[p + 2])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The pixels as uint8 planes, (channels, H, W): the red plane alone for grey sets, else R, G, B.</summary>
    public byte[] Planes(int channels)
    {
        var pixels = Height * Width;
        var planes = new byte[channels * pixels];
        for (var p = 0; p < pixels; p++)
        {
            for (var c = 0; c < channels; c++)
            {
                planes[c * pixels + p] = Rgb[p * 3 + c];
            }
        }
        return planes;
    }
}

/// <summary>
/// PNG, JPEG and BMP decoding with SixLabors.ImageSharp, as torchvision's ImageFolder loader does with PIL:
/// every image becomes 8-bit RGB (alpha dropped, grey repeated). The size is read from the header first, so an
/// image that claims a huge canvas is refused before any pixel buffer is allocated.
/// </summary>
internal static class ImageFileDecoder
{
    private static readonly Configuration Formats = new(new PngConfigurationModule(), new JpegConfigurationModule(), new BmpConfigurationModule());

    /// <exception cref="DatasetException">
    /// Not a PNG, JPEG or BMP image, corrupt, or larger than the limits' side or file size.
    /// </exception>
    public static DecodedImage Decode(Stream content, string entryName, DatasetFileLimits limits)
    {
        using var buffer = ReadBounded(content, entryName, limits.MaxImageFileBytes);
        try
        {
            Identify(buffer, entryName, limits);
            buffer.Position = 0;
            using var image = Image.Load<Rgb24>(Formats, buffer);
            var pixels = new Rgb24[image.Width * image.Height];
            image.CopyPixelDataTo(pixels);
            // Rgb24 is laid out as its R, G, B bytes.
            return new DecodedImage(image.Height, image.Width, MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());
        }
        catch (Exception e) when (IsUnreadable(e))
        {
            throw Unreadable(entryName, e);
        }
    }

    /// <summary>The image's width and height from its header alone: no pixel is decoded.</summary>
    /// <exception cref="DatasetException">Not a PNG, JPEG or BMP image, or larger than the limits' side or file size.</exception>
    public static (int Width, int Height) ReadSize(Stream content, string entryName, DatasetFileLimits limits)
    {
        using var buffer = ReadBounded(content, entryName, limits.MaxImageFileBytes);
        try
        {
            return Identify(buffer, entryName, limits);
        }
        catch (Exception e) when (IsUnreadable(e))
        {
            throw Unreadable(entryName, e);
        }
    }

    /// <summary>Refuses an upload whose images together decode to more than <see cref="DatasetFileLimits.MaxDecodedPixels"/>.</summary>
    public static DatasetException OverPixelBudget(string entryName, int width, int height, DatasetFileLimits limits) =>
        new($"its images decode to more than {limits.MaxDecodedPixels} pixels in all ('{entryName}' is {width}x{height}), the limit for one upload.");

    // ImageSharp 2.1 fails on some malformed files with its own bugs (a JPEG frame header with no scan behind it:
    // NullReferenceException); the file is as unreadable as one it reports.
    private static bool IsUnreadable(Exception e) =>
        e is ImageFormatException or UnknownImageFormatException or InvalidImageContentException or NotSupportedException
            or NullReferenceException or IndexOutOfRangeException or ArgumentOutOfRangeException;

    private static DatasetException Unreadable(string entryName, Exception? cause = null)
    {
        var message = $"'{entryName}' is not a readable PNG, JPEG or BMP image.";
        return cause is null ? new(message) : new(message, cause);
    }

    private static (int Width, int Height) Identify(MemoryStream buffer, string entryName, DatasetFileLimits limits)
    {
        buffer.Position = 0;
        var info = Image.Identify(Formats, buffer) ?? throw Unreadable(entryName);
        if (info.Width > limits.MaxImageSide || info.Height > limits.MaxImageSide)
        {
            throw new DatasetException($"'{entryName}' is {info.Width}x{info.Height} pixels; images larger than {limits.MaxImageSide} pixels on a side are refused.");
        }
        return (info.Width, info.Height);
    }

    /// <summary>The file's bytes, refused once they pass <paramref name="maxBytes"/>: a zip entry's declared size is not trusted.</summary>
    private static MemoryStream ReadBounded(Stream content, string entryName, int maxBytes)
    {
        var buffer = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = content.Read(chunk)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                buffer.Dispose();
                throw new DatasetException($"'{entryName}' unpacks to more than {maxBytes} bytes, the limit for one image file.");
            }
            buffer.Write(chunk, 0, read);
        }
        return buffer;
    }
}
