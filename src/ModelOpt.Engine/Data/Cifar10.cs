namespace ModelOpt.Engine.Data;

/// <summary>
/// CIFAR-10 in its "binary version": <c>data_batch_1..5.bin</c> and <c>test_batch.bin</c>, each a sequence of
/// 3073-byte records (one label byte, then 32x32 red, green and blue planes). It is not in any reachable
/// registry, so the folder always comes from the user.
/// </summary>
public static class Cifar10
{
    public const int Classes = 10;
    public const int Channels = 3;
    private const int Side = 32;
    private const int ImageBytes = Channels * Side * Side;
    private const int RecordBytes = 1 + ImageBytes;

    public static IReadOnlyList<string> TrainFiles { get; } = [.. Enumerable.Range(1, 5).Select(i => $"data_batch_{i}.bin")];

    public const string TestFile = "test_batch.bin";

    public static IReadOnlyList<string> Files { get; } = [.. TrainFiles, TestFile];

    public static DatasetSplits Load(string folder)
    {
        var train = LoadSplit("cifar10/train", TrainFiles.Select(f => Path.Combine(folder, f)).ToArray());
        try
        {
            return new DatasetSplits(train, LoadSplit("cifar10/test", [Path.Combine(folder, TestFile)]));
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    private static ImageDataset LoadSplit(string name, string[] paths)
    {
        var contents = paths.Select(ReadRecords).ToArray();
        var count = contents.Sum(c => c.Length / RecordBytes);
        var pixels = new byte[(long)count * ImageBytes];
        var labels = new long[count];
        var index = 0;
        foreach (var content in contents)
        {
            for (var offset = 0; offset < content.Length; offset += RecordBytes, index++)
            {
                labels[index] = content[offset];
                content.AsSpan(offset + 1, ImageBytes).CopyTo(pixels.AsSpan(index * ImageBytes));
            }
        }
        return new ImageDataset(name, tensor(pixels, [count, Channels, Side, Side], ScalarType.Byte), tensor(labels), Classes);
    }

    private static byte[] ReadRecords(string path)
    {
        if (!File.Exists(path))
        {
            throw DatasetException.For(path, "file not found");
        }
        var content = File.ReadAllBytes(path);
        if (content.Length == 0 || content.Length % RecordBytes != 0)
        {
            throw DatasetException.For(path, $"length {content.Length} bytes is not a positive multiple of the {RecordBytes}-byte record (1 label + 3x32x32 pixels)");
        }
        for (var offset = 0; offset < content.Length; offset += RecordBytes)
        {
            if (content[offset] >= Classes)
            {
                throw DatasetException.For(path, $"record {offset / RecordBytes} has label {content[offset]}, not below {Classes}");
            }
        }
        return content;
    }
}
