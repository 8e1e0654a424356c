namespace ModelOpt.Engine.Storage;

/// <summary>
/// Writes a file through a temporary one beside it and renames it into place, so a reader never sees half a file and
/// a crash or an exception leaves any previous file intact (and no temporary one behind).
/// </summary>
public static class AtomicFile
{
    public const string TemporarySuffix = ".partial";

    /// <param name="path">The file to write.</param>
    /// <param name="write">Writes the whole content to the path it is given (the temporary file).</param>
    public static string Write(string path, Action<string> write)
    {
        var temporary = path + TemporarySuffix;
        try
        {
            write(temporary);
            File.Move(temporary, path, overwrite: true);
            return path;
        }
        finally
        {
            File.Delete(temporary);
        }
    }
}
