using System.Text.RegularExpressions;
using ModelOpt.Engine.Checkpoints;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// The error a job shows its user: what was wrong with their input, or that the server failed, never the server's
/// internals (paths, native stack traces, library advice). The full exception goes to the worker's log under the job id.
/// </summary>
public static partial class JobErrorText
{
    private const int MaxLength = 2000;

    /// <summary>An input error's own message (the engine's, naming the user's file), scrubbed and bounded.</summary>
    public static string ForInput(Exception e) => Scrub(e.Message);

    /// <summary>A server-side failure: its first line, scrubbed, and where to find the rest.</summary>
    public static string ForFailure(Exception e, Guid jobId) => e switch
    {
        System.Data.Common.DbException => $"the database could not be reached; the worker's log has the details under job {jobId}.",
        IOException io => $"the server could not write the stage's files ({Scrub(io.Message)}); the worker's log has the details under job {jobId}.",
        _ => $"{Scrub(e.Message)} (the worker's log has the details under job {jobId}).",
    };

    /// <summary>Everything for the log: a checkpoint mismatch's unabridged report, or the whole exception.</summary>
    public static string FullDetail(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is CheckpointMismatchException mismatch)
            {
                return mismatch.FullReport;
            }
        }
        return e.ToString();
    }

    // Native LibTorch errors append "Exception raised from …" and "frame #N" lines; no line after the first is for users.
    private static string Scrub(string message)
    {
        var firstLine = message.Split('\n', 2)[0].Trim();
        var cut = firstLine.IndexOf("Exception raised from", StringComparison.Ordinal);
        var text = AbsolutePath().Replace(cut >= 0 ? firstLine[..cut].TrimEnd() : firstLine, m => Path.GetFileName(m.Value));
        return text.Length <= MaxLength ? text : text[..MaxLength] + " …";
    }

    // An absolute path: a '/' after a space, quote or the start, then at least two segments.
    [GeneratedRegex(@"(?<=^|[\s'""(])/[^\s'""():]+(?:/[^\s'""():]+)+")]
    private static partial Regex AbsolutePath();
}
