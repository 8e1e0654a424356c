using System.IO.Compression;
using ModelOpt.Engine.Data.Sources;
using ModelOpt.Engine.Data.Uploaded.Npy;

namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>
/// A NumPy <c>.npz</c> (a zip of .npy arrays, as np.savez or np.savez_compressed writes it) holding <c>x_train</c>,
/// <c>y_train</c>, <c>x_test</c>, <c>y_test</c> and optionally <c>class_names</c>. Without class names the classes are
/// 0 … max label, and every one of them needs training images. With neither <c>y_train</c> nor <c>y_test</c> (nor
/// <c>class_names</c>) the set is unlabeled; one label array without the other is refused.
/// </summary>
internal static class NpzFile
{
    private const string ClassNamesArray = "class_names";
    private static readonly string[] ImageArrays = ["x_train", "x_test"];
    private static readonly string[] LabelArrays = ["y_train", "y_test"];
    private static readonly string[] Arrays = [.. ImageArrays, .. LabelArrays];

    public static DatasetFileDescription Inspect(string path, DatasetFileLimits limits)
    {
        using var zip = ArchiveGuard.OpenArchive(path, "an .npz (zip) archive");
        var guard = ArchiveGuard.Check(zip, limits);
        var entries = Entries(zip);
        var train = CheckSplit(guard, entries, "train", null);
        var test = CheckSplit(guard, entries, "test", null);
        var names = train.Labels is null || test.Labels is null ? [] : ClassNames(guard, entries, train.Labels, test.Labels);
        if (train.Layout.Channels != test.Layout.Channels || train.Layout.Height != test.Layout.Height || train.Layout.Width != test.Layout.Width)
        {
            throw new DatasetException($"x_train holds {Describe(train.Layout)} images but x_test {Describe(test.Layout)}: both splits need the same image shape.");
        }
        return new DatasetFileDescription(DatasetFileFormat.Npz, train.Layout.Channels, names, (int)train.Layout.Count, (int)test.Layout.Count,
            train.Layout.Height, train.Layout.Width);
    }

    public static DatasetSplits Open(UploadedDatasetFile file, DatasetFileLimits limits)
    {
        using var zip = ArchiveGuard.OpenArchive(file.Path, "an .npz (zip) archive");
        var guard = ArchiveGuard.Check(zip, limits);
        var entries = Entries(zip);
        PendingSplit? train = null;
        PendingSplit? test = null;
        try
        {
            train = OpenSplit(guard, entries, "train", file.FileName);
            test = OpenSplit(guard, entries, "test", file.FileName);
            var names = train.Labels is null || test.Labels is null
                ? []
                : ClassNames(guard, entries, train.Labels.data<long>().ToArray(), test.Labels.data<long>().ToArray());
            return new DatasetSplits(train.WithClasses(names), test.WithClasses(names));
        }
        catch
        {
            train?.Dispose();
            test?.Dispose();
            throw;
        }
    }

    /// <summary>The split's image layout and its labels, null when the file has no label arrays.</summary>
    private static (NpyImageLayout Layout, long[]? Labels) CheckSplit(ArchiveGuard guard, Dictionary<string, ZipArchiveEntry> entries, string split, Stream? copyTo)
    {
        NpyImageLayout layout;
        using (var x = guard.OpenBounded(entries[$"x_{split}"]))
        {
            layout = NpyImageLayout.Of(NpyHeader.Read(x, $"x_{split}"), $"x_{split}");
            NpyArrays.CheckImages(x, layout, $"x_{split}", copyTo);
        }
        if (!entries.TryGetValue($"y_{split}", out var labels))
        {
            return (layout, null);
        }
        using var y = guard.OpenBounded(labels);
        return (layout, NpyArrays.ReadLabels(y, NpyHeader.Read(y, $"y_{split}"), $"y_{split}", layout.Count, $"x_{split}"));
    }

    private static PendingSplit OpenSplit(ArchiveGuard guard, Dictionary<string, ZipArchiveEntry> entries, string split, string fileName)
    {
        // Unpacked once per open: a deflated entry cannot be read at an offset.
        var data = new FileStream(Path.Combine(Path.GetTempPath(), $"modelopt-npz-{Guid.NewGuid():N}"), FileMode.CreateNew, FileAccess.ReadWrite,
            FileShare.None, 1 << 16, FileOptions.DeleteOnClose);
        try
        {
            var (layout, labels) = CheckSplit(guard, entries, split, data);
            return new PendingSplit($"{fileName}/{split}", new NpyImageSource(data, layout), labels is null ? null : tensor(labels));
        }
        catch
        {
            data.Dispose();
            throw;
        }
    }

    private static IReadOnlyList<string> ClassNames(ArchiveGuard guard, Dictionary<string, ZipArchiveEntry> entries, long[] train, long[] test)
    {
        string[] names;
        if (entries.TryGetValue(ClassNamesArray, out var entry))
        {
            using var stream = guard.OpenBounded(entry);
            names = NpyArrays.ReadStrings(stream, NpyHeader.Read(stream, ClassNamesArray), ClassNamesArray);
        }
        else
        {
            names = [.. Enumerable.Range(0, (int)Math.Min(Math.Max(train.DefaultIfEmpty(0).Max(), test.DefaultIfEmpty(0).Max()) + 1, 100_001)).Select(i => i.ToString())];
        }
        if (names.Length is < 2 or > 100_000)
        {
            throw new DatasetException($"it has {names.Length} classes; a classification dataset has 2 to 100000.");
        }
        foreach (var (labels, array) in new[] { (train, "y_train"), (test, "y_test") })
        {
            var bad = Array.FindIndex(labels, l => l < 0 || l >= names.Length);
            if (bad >= 0)
            {
                throw new DatasetException($"{array}[{bad}] is {labels[bad]}, outside the class range 0-{names.Length - 1}"
                                           + (entries.ContainsKey(ClassNamesArray) ? $" ({names.Length} class_names)." : "."));
            }
        }
        var counts = new long[names.Length];
        foreach (var label in train)
        {
            counts[label]++;
        }
        var empty = Array.IndexOf(counts, 0L);
        if (empty >= 0)
        {
            throw new DatasetException($"class {empty} ('{names[empty]}') has no images in y_train: every class needs training images.");
        }
        return names;
    }

    private static Dictionary<string, ZipArchiveEntry> Entries(ZipArchive zip)
    {
        var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries.Where(e => !e.FullName.EndsWith('/') && !ArchiveGuard.IsArchiverClutter(e.FullName)))
        {
            var name = entry.FullName.EndsWith(".npy", StringComparison.Ordinal) ? entry.FullName[..^4] : entry.FullName;
            if (!Arrays.Contains(name) && name != ClassNamesArray)
            {
                throw new DatasetException($"it holds '{entry.FullName}'; an .npz dataset holds only {string.Join(", ", Arrays)} and optionally {ClassNamesArray}.");
            }
            entries[name] = entry;
        }
        foreach (var name in ImageArrays.Where(a => !entries.ContainsKey(a)))
        {
            throw new DatasetException($"it has no '{name}' array; an .npz dataset needs {string.Join(", ", ImageArrays)} "
                                       + $"(and {string.Join(", ", LabelArrays)} for a labelled set).");
        }
        var labelArrays = LabelArrays.Where(entries.ContainsKey).ToList();
        if (labelArrays.Count == 1)
        {
            var missing = LabelArrays.Single(a => a != labelArrays[0]);
            throw new DatasetException($"it has '{labelArrays[0]}' but no '{missing}' array: give both label arrays (a labelled set) or neither (an unlabeled one).");
        }
        if (labelArrays.Count == 0 && entries.ContainsKey(ClassNamesArray))
        {
            throw new DatasetException($"it has '{ClassNamesArray}' but no {string.Join(" or ", LabelArrays)}: class names need label arrays; "
                                       + $"leave {ClassNamesArray} out of an unlabeled set.");
        }
        return entries;
    }

    private static string Describe(NpyImageLayout layout) => $"{layout.Channels}x{layout.Height}x{layout.Width}";

    /// <summary>A split whose class names are known only once both splits' labels are read; <c>Labels</c> is null in an unlabeled file.</summary>
    private sealed record PendingSplit(string Name, NpyImageSource Source, Tensor? Labels) : IDisposable
    {
        public ImageDataset WithClasses(IReadOnlyList<string> names) =>
            Labels is null ? ImageDataset.Unlabeled(Name, Source) : new(Name, Source, Labels, names.Count, names);

        public void Dispose()
        {
            Source.Dispose();
            Labels?.Dispose();
        }
    }
}
