using System.ComponentModel.DataAnnotations;
using ModelOpt.Engine.Data.Uploaded;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:DatasetUploads</c>: how large an uploaded dataset may be, packed and unpacked.</summary>
public sealed class DatasetUploadOptions
{
    public const string Section = "ModelOpt:DatasetUploads";

    /// <summary>Largest accepted upload in bytes (default 2 GiB); larger requests get 413.</summary>
    [Range(1024, 1L << 40)]
    public long MaxBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    /// <summary>Bytes every entry of the archive may unpack to, together (default 8 GiB): bounds zip bombs.</summary>
    [Range(1024, 1L << 42)]
    public long MaxUncompressedBytes { get; set; } = 8L * 1024 * 1024 * 1024;

    /// <summary>Entries (files and folders) an archive may hold (default 1 000 000).</summary>
    [Range(1, 100_000_000)]
    public int MaxEntries { get; set; } = 1_000_000;

    /// <summary>Largest width or height of one image in pixels (default 4096), read from its header before decoding.</summary>
    [Range(1, 65_536)]
    public int MaxImageSide { get; set; } = 4096;

    /// <summary>Bytes one image file of an ImageFolder zip may unpack to (default 64 MiB); it is read into memory to be decoded.</summary>
    [Range(1024, int.MaxValue)]
    public int MaxImageFileBytes { get; set; } = EngineDefaults.MaxImageFileBytes;

    /// <summary>
    /// Pixels all images of one upload may decode to, together (default 2^29): the upload check decodes every image, so
    /// this bounds the CPU a small zip of images with huge declared canvases can cost.
    /// </summary>
    [Range(1, 1L << 40)]
    public long MaxDecodedPixels { get; set; } = EngineDefaults.MaxDecodedPixels;

    private static readonly DatasetFileLimits EngineDefaults = new();

    public DatasetFileLimits ToLimits() => new(MaxUncompressedBytes, MaxEntries, MaxImageSide, MaxImageFileBytes, MaxDecodedPixels);
}
