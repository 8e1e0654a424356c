namespace ModelOpt.Engine.Data;

/// <summary>A dataset file is missing or does not have the expected format; the message names the file and the problem.</summary>
public sealed class DatasetException : Exception
{
    public DatasetException(string message) : base(message)
    {
    }

    public DatasetException(string message, Exception innerException) : base(message, innerException)
    {
    }

    /// <summary>The file the problem was found in, or null when the problem is not about one file.</summary>
    public string? FilePath { get; init; }

    internal static DatasetException For(string path, string problem, Exception? inner = null) =>
        inner is null
            ? new DatasetException($"{path}: {problem}") { FilePath = path }
            : new DatasetException($"{path}: {problem}", inner) { FilePath = path };
}
