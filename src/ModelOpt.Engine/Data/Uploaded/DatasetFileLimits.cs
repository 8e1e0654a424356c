namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>Bounds on what an uploaded archive may unpack to, so that a small zip cannot claim the machine (zip bombs).</summary>
/// <param name="MaxUncompressedBytes">Total bytes all entries may decompress to.</param>
/// <param name="MaxEntries">Entries (files and folders) in the archive.</param>
/// <param name="MaxImageSide">Largest width or height of one image, checked from its header before it is decoded.</param>
/// <param name="MaxImageFileBytes">Largest one image file may unpack to; it is read into memory to be decoded.</param>
/// <param name="MaxDecodedPixels">Pixels all images of one upload may decode to, together: bounds the CPU a small archive of
/// images with huge declared canvases can cost when it is checked.</param>
public sealed record DatasetFileLimits(
    long MaxUncompressedBytes = 4L * 1024 * 1024 * 1024,
    int MaxEntries = 200_000,
    int MaxImageSide = 4096,
    int MaxImageFileBytes = 64 * 1024 * 1024,
    long MaxDecodedPixels = 1L << 29);
