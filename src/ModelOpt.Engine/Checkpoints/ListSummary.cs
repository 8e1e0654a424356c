namespace ModelOpt.Engine.Checkpoints;

/// <summary>Long lists in messages a user reads: the first few items, then how many more; the full list belongs in the log.</summary>
public static class ListSummary
{
    public const int Shown = 10;

    /// <summary>"a, b, c" or, past <see cref="Shown"/> items, "a, b, … and 27 more (37 in all)".</summary>
    public static string Of(IEnumerable<string> items, string separator = ", ")
    {
        var all = items.ToList();
        return all.Count <= Shown
            ? string.Join(separator, all)
            : $"{string.Join(separator, all.Take(Shown))}{separator}… and {all.Count - Shown} more ({all.Count} in all)";
    }
}
