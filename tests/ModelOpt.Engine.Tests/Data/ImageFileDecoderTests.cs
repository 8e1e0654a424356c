using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;

namespace ModelOpt.Engine.Tests.Data;

/// <summary>Image files whose headers promise what their bytes do not hold (issue 27's corpus, kind lying-image).</summary>
public class ImageFileDecoderTests
{
    private static readonly DatasetFileLimits Limits = new();

    /// <summary>A JPEG of SOI, a baseline SOF0 frame header claiming <paramref name="width"/> x <paramref name="height"/> with 3 components, then EOI: no tables, no scan.</summary>
    private static byte[] JpegHeaderOnly(int width, int height) =>
    [
        0xFF, 0xD8,
        0xFF, 0xC0, 0x00, 0x11, 0x08, (byte)(height >> 8), (byte)height, (byte)(width >> 8), (byte)width, 0x03,
        0x01, 0x11, 0x00, 0x02, 0x11, 0x00, 0x03, 0x11, 0x00,
        0xFF, 0xD9,
    ];

    [Theory]
    [InlineData(4096, 4096)]
    [InlineData(16, 16)]
    public void A_jpeg_header_without_a_scan_is_refused_as_not_readable(int width, int height)
    {
        var error = Assert.Throws<DatasetException>(() => ImageFileDecoder.Decode(new MemoryStream(JpegHeaderOnly(width, height)), "train/a/0.jpg", Limits));

        Assert.Equal("'train/a/0.jpg' is not a readable PNG, JPEG or BMP image.", error.Message);
    }
}
