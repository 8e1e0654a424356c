namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>
/// The datasets users upload: an ImageFolder zip or an .npz, labelled or not (images without class folders or y_* arrays
/// serve generic jobs, which compare with the FP32 model instead of scoring against labels). Every problem is a <see cref="DatasetException"/> whose
/// message starts with the user's file name and names the entry or array at fault, never a path on this machine.
/// </summary>
public static class UploadedDatasets
{
    private static DatasetFileFormat FormatOf(string fileName) => Path.GetExtension(fileName).ToLowerInvariant() switch
    {
        ".zip" => DatasetFileFormat.ImageFolderZip,
        ".npz" => DatasetFileFormat.Npz,
        _ => throw new DatasetException("a dataset is an ImageFolder .zip or a NumPy .npz file."),
    };

    /// <summary>Reads the whole file once (every image decoded, every label checked) and describes it.</summary>
    public static DatasetFileDescription Inspect(string path, string fileName, DatasetFileLimits limits) =>
        Named(fileName, () => FormatOf(fileName) == DatasetFileFormat.Npz ? NpzFile.Inspect(path, limits) : ImageFolderZip.Inspect(path, limits));

    /// <summary>Opens both splits; images are decoded batch by batch as they are read.</summary>
    public static DatasetSplits Open(UploadedDatasetFile file, DatasetSplitOptions split, DatasetFileLimits limits) =>
        Named(file.FileName, () => file.Format == DatasetFileFormat.Npz ? NpzFile.Open(file, limits) : ImageFolderZip.Open(file, split, limits));

    private static T Named<T>(string fileName, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (DatasetException e)
        {
            throw new DatasetException($"{fileName}: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new DatasetException($"{fileName}: the archive is corrupt (an entry does not decompress).", e);
        }
    }
}
