namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>Bounds on what an uploaded archive may unpack to, so that a small zip cannot claim the machine (zip bombs).</summary>
/// <param name="MaxUncompressedBytes">Total bytes all entries may decompress to.</param>
/// <param name="MaxEntries">Entries (files and folders) in the archive.</param>
/// <param name="MaxImageSide">Largest width or height of one image, checked from its header before it is decoded.</param>
public sealed record DatasetFileLimits(long MaxUncompressedBytes = 4L * 1024 * 1024 * 1024, int MaxEntries = 200_000, int MaxImageSide = 4096);
