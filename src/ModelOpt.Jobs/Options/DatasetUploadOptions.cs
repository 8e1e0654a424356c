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

    public DatasetFileLimits ToLimits() => new(MaxUncompressedBytes, MaxEntries, MaxImageSide);
}
