namespace ModelOpt.Engine.Checkpoints;

/// <summary>
/// A readable checkpoint that does not fit the architecture. Every problem is listed at once, so a user
/// fixing the upload sees them all; nothing was copied into the model when this is thrown.
/// </summary>
public sealed class CheckpointMismatchException : Exception
{
    public CheckpointMismatchException(
        string architecture,
        IReadOnlyList<string> missing,
        IReadOnlyList<string> unexpected,
        IReadOnlyList<ShapeMismatch> shapeMismatches,
        IReadOnlyList<DtypeMismatch> dtypeMismatches)
        : base(BuildMessage(architecture, missing, unexpected, shapeMismatches, dtypeMismatches, ListSummary.Of))
    {
        FullReport = BuildMessage(architecture, missing, unexpected, shapeMismatches, dtypeMismatches, (items, separator) => string.Join(separator, items));
        Architecture = architecture;
        Missing = missing;
        Unexpected = unexpected;
        ShapeMismatches = shapeMismatches;
        DtypeMismatches = dtypeMismatches;
    }

    /// <summary>The architecture the checkpoint was checked against, e.g. "resnet20 (1 input channel, 10 classes)".</summary>
    public string Architecture { get; }

    /// <summary>Every problem, unabridged, for the log; <see cref="Exception.Message"/> names the first ten of each kind and counts the rest.</summary>
    public string FullReport { get; }

    /// <summary>Keys the model has and the checkpoint lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Keys the checkpoint has and the model lacks.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    public IReadOnlyList<ShapeMismatch> ShapeMismatches { get; }

    public IReadOnlyList<DtypeMismatch> DtypeMismatches { get; }

    private static string BuildMessage(
        string architecture,
        IReadOnlyList<string> missing,
        IReadOnlyList<string> unexpected,
        IReadOnlyList<ShapeMismatch> shapes,
        IReadOnlyList<DtypeMismatch> dtypes,
        Func<IEnumerable<string>, string, string> list)
    {
        var parts = new List<string>();
        if (missing.Count > 0)
        {
            parts.Add($"missing: {list(missing, ", ")}");
        }
        if (unexpected.Count > 0)
        {
            parts.Add($"unexpected: {list(unexpected, ", ")}");
        }
        if (shapes.Count > 0)
        {
            parts.Add($"shape mismatch: {list(shapes.Select(m => m.ToString()), "; ")}");
        }
        if (dtypes.Count > 0)
        {
            parts.Add($"dtype mismatch: {list(dtypes.Select(m => m.ToString()), "; ")}");
        }
        return $"Checkpoint does not match {architecture}: {string.Join("; ", parts)}.";
    }
}
