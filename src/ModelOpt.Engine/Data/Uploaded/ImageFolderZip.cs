using System.IO.Compression;
using ModelOpt.Engine.Data.Sources;

namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>
/// An ImageFolder zip (labelled by class folders, or unlabeled: see <see cref="ImageFolderIndex"/>): checked in full at
/// upload (every image decoded once), decoded batch by batch when a job runs.
/// </summary>
internal static class ImageFolderZip
{
    public static DatasetFileDescription Inspect(string path, DatasetFileLimits limits)
    {
        using var zip = ArchiveGuard.OpenArchive(path, "a zip archive");
        var guard = ArchiveGuard.Check(zip, limits);
        var index = ImageFolderIndex.Scan(zip);
        // Every header first: an archive whose images claim more pixels than one upload may decode is refused before any
        // pixel buffer exists, so a refused upload leaves no decoded images behind in the API's memory.
        // A guard of its own: the decoding pass below reads the same bytes again and counts them against the archive's bound.
        var headerGuard = guard.ForAnotherPass();
        var pixelsLeft = limits.MaxDecodedPixels;
        foreach (var image in index.Train.Concat(index.Test))
        {
            using var header = headerGuard.OpenBounded(image.Entry);
            var (width, height) = ImageFileDecoder.ReadSize(header, image.Entry.FullName, limits);
            pixelsLeft -= (long)width * height;
            if (pixelsLeft < 0)
            {
                throw ImageFileDecoder.OverPixelBudget(image.Entry.FullName, width, height, limits);
            }
        }
        var grey = true;
        var sizes = new HashSet<(int, int)>();
        foreach (var image in index.Train.Concat(index.Test))
        {
            // The same headers as above: the pixel budget already holds for every image.
            using var content = guard.OpenBounded(image.Entry);
            var decoded = ImageFileDecoder.Decode(content, image.Entry.FullName, limits);
            grey = grey && decoded.IsGrey();
            sizes.Add((decoded.Height, decoded.Width));
        }
        (int Height, int Width)? size = sizes.Count == 1 ? sizes.Single() : null;
        return new DatasetFileDescription(DatasetFileFormat.ImageFolderZip, grey ? 1 : 3, index.ClassNames, index.Train.Count, index.Test.Count,
            size?.Height, size?.Width);
    }

    public static DatasetSplits Open(UploadedDatasetFile file, DatasetSplitOptions split, DatasetFileLimits limits)
    {
        var name = file.FileName;
        var zip = ArchiveGuard.OpenArchive(file.Path, "a zip archive");
        try
        {
            var index = ImageFolderIndex.Scan(zip);
            if (!index.IsSingleSet)
            {
                // Each split owns its own view of the archive's directory; the train split owns the archive.
                var train = Split($"{name}/train", zip, index.Train, index, file, limits, ownsArchive: true);
                return new DatasetSplits(train, Split($"{name}/test", zip, index.Test, index, file, limits, ownsArchive: false));
            }
            var (trainIndices, testIndices) = split.Split(index.Train.Count);
            var trainSet = Split($"{name}/train", zip, [.. trainIndices.Select(i => index.Train[(int)i])], index, file, limits, ownsArchive: true);
            return new DatasetSplits(trainSet, Split($"{name}/test", zip, [.. testIndices.Select(i => index.Train[(int)i])], index, file, limits, ownsArchive: false));
        }
        catch
        {
            zip.Dispose();
            throw;
        }
    }

    private static ImageDataset Split(string name, ZipArchive zip, IReadOnlyList<ImageFolderEntry> images, ImageFolderIndex index,
        UploadedDatasetFile file, DatasetFileLimits limits, bool ownsArchive)
    {
        var entries = images.Select(i => i.Entry).ToList();
        var source = new ZipImageSource(ownsArchive ? zip : null, entries, file.Channels, file.ImageSize, limits);
        return index.IsLabeled
            ? new ImageDataset(name, source, tensor(images.Select(i => i.Label!.Value).ToArray()), index.ClassNames.Count, index.ClassNames)
            : ImageDataset.Unlabeled(name, source);
    }
}
