using System.ComponentModel.DataAnnotations;
using ModelOpt.Engine.Data.Uploaded;

namespace ModelOpt.Jobs.Options;

/// <summary><c>ModelOpt:DatasetUploads</c>: how large an uploaded dataset may be, packed and unpacked.</summary>
public sealed class DatasetUploadOptions
{
    public const string Section = "ModelOpt:DatasetUploads";

    [Setting("largest dataset upload; larger ones get 413", Essential = true)]
    [Range(1024, 1L << 40)]
    public long MaxBytes { get; set; } = 2L * 1024 * 1024 * 1024;

    [Setting("what all entries of an uploaded zip / npz may unpack to together (declared sizes checked first, then the bytes really decompressed): bounds zip bombs", Essential = true)]
    [Range(1024, 1L << 42)]
    public long MaxUncompressedBytes { get; set; } = 8L * 1024 * 1024 * 1024;

    [Setting("entries (files and folders) an uploaded archive may hold")]
    [Range(1, 100_000_000)]
    public int MaxEntries { get; set; } = 1_000_000;

    [Setting("widest or tallest image in pixels, read from its header before it is decoded")]
    [Range(1, 65_536)]
    public int MaxImageSide { get; set; } = 4096;

    [Setting("what one image file of a zip may unpack to (it is read into memory to be decoded)")]
    [Range(1024, int.MaxValue)]
    public int MaxImageFileBytes { get; set; } = EngineDefaults.MaxImageFileBytes;

    [Setting("pixels all images of one upload may decode to together, checked from each header before decoding: bounds the CPU of the upload check")]
    [Range(1, 1L << 40)]
    public long MaxDecodedPixels { get; set; } = EngineDefaults.MaxDecodedPixels;

    private static readonly DatasetFileLimits EngineDefaults = new();

    public DatasetFileLimits ToLimits() => new(MaxUncompressedBytes, MaxEntries, MaxImageSide, MaxImageFileBytes, MaxDecodedPixels);
}
