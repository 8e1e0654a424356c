using System.IO.Compression;

namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>One image of an ImageFolder zip: its entry and its label (the index of its class folder in sorted order; null in an unlabeled set).</summary>
internal sealed record ImageFolderEntry(ZipArchiveEntry Entry, long? Label);

/// <summary>
/// An ImageFolder zip's layout as torchvision reads it: class names are the folder names, sorted (ordinal), and an image
/// belongs to the class folder it sits in, at any depth below it. <c>train/</c> with <c>test/</c> (or <c>val/</c>) gives
/// two splits; otherwise the zip is one set. Folders that wrap everything (e.g. <c>mydata/…</c>) are looked through.
/// In each split (or the one set), either every image lies in a class folder (labelled, at least two classes), or every
/// image lies directly in it, with no folder (unlabeled: images for calibration and for comparing with the FP32 model).
/// A split mixing both is refused, as are splits of different kinds. So a zip of one folder of images is an unlabeled set.
/// </summary>
internal sealed record ImageFolderIndex(IReadOnlyList<string> ClassNames, IReadOnlyList<ImageFolderEntry> Train, IReadOnlyList<ImageFolderEntry> Test)
{
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp"];
    private const string TrainFolder = "train";
    private static readonly string[] TestFolders = ["test", "val"];

    public bool IsSingleSet => Test.Count == 0;

    /// <summary>Whether the images have class labels; false for a zip of images without class folders.</summary>
    public bool IsLabeled => ClassNames.Count > 0;

    /// <summary>Reads the layout from the archive's names alone; throws <see cref="DatasetException"/> naming what is wrong.</summary>
    public static ImageFolderIndex Scan(ZipArchive zip)
    {
        var entries = zip.Entries.Where(e => !ArchiveGuard.IsArchiverClutter(e.FullName)).ToList();
        var files = entries.Where(e => !e.FullName.EndsWith('/')).ToList();
        var folders = entries.Select(e => e.FullName.EndsWith('/') ? e.FullName : e.FullName[..(e.FullName.LastIndexOf('/') + 1)])
            .Where(f => f.Length > 0).ToHashSet();
        if (files.Count == 0)
        {
            throw new DatasetException("the zip holds no files.");
        }
        foreach (var file in files.Where(f => !ImageExtensions.Contains(Path.GetExtension(f.FullName).ToLowerInvariant())))
        {
            throw new DatasetException($"'{file.FullName}' is not an image: an ImageFolder zip holds only {string.Join(", ", ImageExtensions)} files.");
        }

        var root = WrapperFolder(files);
        var topFolders = folders.Where(f => f.StartsWith(root, StringComparison.Ordinal) && f.Length > root.Length)
            .Select(f => f[root.Length..].Split('/')[0]).ToHashSet(StringComparer.Ordinal);
        var hasTrain = topFolders.Contains(TrainFolder);
        var testFolder = TestFolders.FirstOrDefault(topFolders.Contains);
        if (!hasTrain && testFolder is null)
        {
            var set = ReadSplit(files, folders, root, "");
            return new ImageFolderIndex(set.ClassNames, set.Images, []);
        }
        if (!hasTrain || testFolder is null)
        {
            throw new DatasetException($"it has a '{root}{(hasTrain ? TrainFolder : testFolder)}/' folder but no '{root}{(hasTrain ? "test" : TrainFolder)}/' beside it: give train/ and test/ (or val/), or put the class folders at the root.");
        }
        if (files.FirstOrDefault(f => f.FullName.Length > root.Length && !f.FullName[root.Length..].Contains('/')) is { } loose)
        {
            throw new DatasetException($"'{loose.FullName}' lies directly in {Shown(root)} beside '{root}{TrainFolder}/' and '{root}{testFolder}/': "
                                       + "with splits, every image belongs in one of them.");
        }
        if (TestFolders.All(topFolders.Contains))
        {
            throw new DatasetException($"it has both '{root}test/' and '{root}val/': keep one of them as the test split.");
        }
        foreach (var other in topFolders.Where(f => f != TrainFolder && f != testFolder).Order(StringComparer.Ordinal))
        {
            throw new DatasetException($"'{root}{other}/' is neither train/ nor {testFolder}/: an ImageFolder zip with splits holds only those two folders.");
        }
        var train = ReadSplit(files, folders, root, TrainFolder + "/");
        var test = ReadSplit(files, folders, root, testFolder + "/");
        if (train.ClassNames.Count > 0 != test.ClassNames.Count > 0)
        {
            var (labeled, unlabeled) = train.ClassNames.Count > 0 ? (TrainFolder, testFolder) : (testFolder, TrainFolder);
            throw new DatasetException($"'{root}{labeled}/' has class folders but '{root}{unlabeled}/' holds its images without them: "
                                       + "both splits need class folders (labelled) or neither (unlabeled).");
        }
        var missing = train.ClassNames.Except(test.ClassNames).Concat(test.ClassNames.Except(train.ClassNames)).Order(StringComparer.Ordinal).ToList();
        if (missing.Count > 0)
        {
            var name = missing[0];
            throw new DatasetException($"class '{name}' has images in {(train.ClassNames.Contains(name) ? TrainFolder : testFolder)}/ but none in {(train.ClassNames.Contains(name) ? testFolder : TrainFolder)}/: both splits need the same classes.");
        }
        return new ImageFolderIndex(train.ClassNames, train.Images, test.Images);
    }

    private static (IReadOnlyList<string> ClassNames, IReadOnlyList<ImageFolderEntry> Images) ReadSplit(
        List<ZipArchiveEntry> files, HashSet<string> folders, string root, string split)
    {
        var prefix = root + split;
        var shown = Shown(prefix);
        var inSplit = files.Where(f => f.FullName.StartsWith(prefix, StringComparison.Ordinal)).ToList();
        var loose = inSplit.Where(f => !f.FullName[prefix.Length..].Contains('/')).ToList();
        var foldered = inSplit.Where(f => f.FullName[prefix.Length..].Contains('/')).ToList();
        if (loose.Count > 0 && foldered.Count > 0)
        {
            var relative = loose[0].FullName[prefix.Length..];
            throw new DatasetException($"'{loose[0].FullName}' lies directly in {shown} but '{foldered[0].FullName}' is in a class folder: "
                                       + $"put every image in a class folder ({prefix}<class>/{relative}) for a labelled set, "
                                       + $"or every image directly in {shown} for an unlabeled one.");
        }
        if (loose.Count > 0)
        {
            // Images without class folders: an unlabeled set. An empty folder beside them holds nothing to read.
            return ([], [.. loose.OrderBy(e => e.FullName, StringComparer.Ordinal).Select(e => new ImageFolderEntry(e, null))]);
        }
        var byClass = new SortedDictionary<string, List<ZipArchiveEntry>>(StringComparer.Ordinal);
        foreach (var folder in folders.Where(f => f.StartsWith(prefix, StringComparison.Ordinal) && f.Length > prefix.Length))
        {
            byClass.TryAdd(folder[prefix.Length..].Split('/')[0], []);
        }
        foreach (var file in foldered)
        {
            var relative = file.FullName[prefix.Length..];
            byClass[relative[..relative.IndexOf('/')]].Add(file);
        }
        if (byClass.Values.All(images => images.Count == 0))
        {
            throw new DatasetException($"{shown} holds no images.");
        }
        foreach (var name in byClass.Where(c => c.Value.Count == 0).Select(c => c.Key))
        {
            throw new DatasetException($"class folder '{prefix}{name}/' holds no images: every class needs at least one.");
        }
        if (byClass.Count < 2)
        {
            throw new DatasetException($"{shown} has one class folder ('{byClass.Keys.First()}'); a classification dataset needs at least two.");
        }
        var names = byClass.Keys.ToList();
        var images = byClass.Values.SelectMany((list, label) => list.OrderBy(e => e.FullName, StringComparer.Ordinal).Select(e => new ImageFolderEntry(e, label))).ToList();
        return (names, images);
    }

    private static string Shown(string prefix) => prefix.Length == 0 ? "the zip's root" : $"'{prefix}'";

    /// <summary>
    /// The folder every file sits in when the zip wraps its layout in folders (e.g. <c>mydata/train/…</c>, or
    /// <c>photos/*.png</c>), else "". A split folder (train, test, val) is never looked through.
    /// </summary>
    private static string WrapperFolder(List<ZipArchiveEntry> files)
    {
        var root = "";
        while (true)
        {
            var tops = files.Select(f => f.FullName[root.Length..]).Select(rest => rest.IndexOf('/') is var slash and > 0 ? rest[..slash] : null).ToList();
            if (tops.Any(t => t is null) || tops.Distinct().Count() != 1 || tops[0] is TrainFolder or "test" or "val")
            {
                return root;
            }
            root += tops[0] + "/";
        }
    }
}
