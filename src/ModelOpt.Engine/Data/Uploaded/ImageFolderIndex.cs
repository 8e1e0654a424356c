using System.IO.Compression;

namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>One image of an ImageFolder zip: its entry and its label (the index of its class folder in sorted order).</summary>
internal sealed record ImageFolderEntry(ZipArchiveEntry Entry, long Label);

/// <summary>
/// An ImageFolder zip's layout as torchvision reads it: class names are the folder names, sorted (ordinal), and an image
/// belongs to the class folder it sits in, at any depth below it. <c>train/</c> with <c>test/</c> (or <c>val/</c>) gives
/// two splits; class folders at the root give one set. A single folder wrapping either layout is looked through.
/// </summary>
internal sealed record ImageFolderIndex(IReadOnlyList<string> ClassNames, IReadOnlyList<ImageFolderEntry> Train, IReadOnlyList<ImageFolderEntry> Test)
{
    public static readonly string[] ImageExtensions = [".png", ".jpg", ".jpeg", ".bmp"];
    private const string TrainFolder = "train";
    private static readonly string[] TestFolders = ["test", "val"];

    public bool IsSingleSet => Test.Count == 0;

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
        var shown = prefix.Length == 0 ? "the zip's root" : $"'{prefix}'";
        var byClass = new SortedDictionary<string, List<ZipArchiveEntry>>(StringComparer.Ordinal);
        foreach (var folder in folders.Where(f => f.StartsWith(prefix, StringComparison.Ordinal) && f.Length > prefix.Length))
        {
            byClass.TryAdd(folder[prefix.Length..].Split('/')[0], []);
        }
        foreach (var file in files.Where(f => f.FullName.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var relative = file.FullName[prefix.Length..];
            var slash = relative.IndexOf('/');
            if (slash < 0)
            {
                throw new DatasetException($"'{file.FullName}' lies directly in {shown}: images belong in class folders ({prefix}<class>/{relative}).");
            }
            byClass[relative[..slash]].Add(file);
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

    /// <summary>The folder every file sits in when the zip wraps its layout in one (e.g. <c>mydata/train/…</c>), else "".</summary>
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
            var candidate = root + tops[0] + "/";
            // Look through the folder only if something below it is still a folder (class folders or splits).
            if (files.All(f => f.FullName[candidate.Length..].Contains('/')))
            {
                root = candidate;
            }
            else
            {
                return root;
            }
        }
    }
}
