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

    /// <exception cref="DatasetException">Not a PNG, JPEG or BMP image, corrupt, or larger than <paramref name="maxSide"/>.</exception>
    public static DecodedImage Decode(Stream content, string entryName, int maxSide)
    {
        using var buffer = new MemoryStream();
        content.CopyTo(buffer);
        try
        {
            buffer.Position = 0;
            var info = Image.Identify(Formats, buffer)
                       ?? throw new DatasetException($"'{entryName}' is not a readable PNG, JPEG or BMP image.");
            if (info.Width > maxSide || info.Height > maxSide)
            {
                throw new DatasetException($"'{entryName}' is {info.Width}x{info.Height} pixels; images larger than {maxSide} pixels on a side are refused.");
            }
            buffer.Position = 0;
            using var image = Image.Load<Rgb24>(Formats, buffer);
            var pixels = new Rgb24[image.Width * image.Height];
            image.CopyPixelDataTo(pixels);
            // Rgb24 is laid out as its R, G, B bytes.
            return new DecodedImage(image.Height, image.Width, MemoryMarshal.AsBytes(pixels.AsSpan()).ToArray());
        }
        catch (Exception e) when (e is ImageFormatException or UnknownImageFormatException or InvalidImageContentException or NotSupportedException)
        {
            throw new DatasetException($"'{entryName}' is not a readable PNG, JPEG or BMP image.", e);
        }
    }
}
