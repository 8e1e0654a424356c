namespace ModelOpt.Engine.Data;

/// <summary>Zalando's Fashion-MNIST: 28x28 grey images of 10 clothing classes, 60 000 for training and 10 000 for test, as gzipped IDX files.</summary>
public static class FashionMnist
{
    public const string DefaultFolder = "/usr/share/datasets/fashion-mnist";
    public const int Classes = 10;
    public const int Channels = 1;
    private const int Side = 28;

    public static IReadOnlyList<string> Files { get; } =
    [
        "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz",
    ];

    public static DatasetSplits Load(string? folder = null)
    {
        folder ??= DefaultFolder;
        var train = LoadSplit(folder, "train");
        try
        {
            return new DatasetSplits(train, LoadSplit(folder, "t10k"));
        }
        catch
        {
            train.Dispose();
            throw;
        }
    }

    private static ImageDataset LoadSplit(string folder, string prefix)
    {
        var imagesPath = Path.Combine(folder, $"{prefix}-images-idx3-ubyte.gz");
        var labelsPath = Path.Combine(folder, $"{prefix}-labels-idx1-ubyte.gz");
        var (imageDims, pixels) = IdxFile.ReadUnsignedBytes(imagesPath, 3);
        if (imageDims[1] != Side || imageDims[2] != Side)
        {
            throw DatasetException.For(imagesPath, $"images are {imageDims[1]}x{imageDims[2]}, expected {Side}x{Side}");
        }
        var (labelDims, labelBytes) = IdxFile.ReadUnsignedBytes(labelsPath, 1);
        if (labelDims[0] != imageDims[0])
        {
            throw DatasetException.For(labelsPath, $"holds {labelDims[0]} labels but {Path.GetFileName(imagesPath)} holds {imageDims[0]} images");
        }
        var badLabel = Array.FindIndex(labelBytes, l => l >= Classes);
        if (badLabel >= 0)
        {
            throw DatasetException.For(labelsPath, $"label {labelBytes[badLabel]} at index {badLabel} is not below {Classes}");
        }

        var images = tensor(pixels, [imageDims[0], Channels, Side, Side], ScalarType.Byte);
        using var labelsAsBytes = tensor(labelBytes, [labelDims[0]], ScalarType.Byte);
        var labels = labelsAsBytes.to_type(ScalarType.Int64);
        return new ImageDataset($"fashion-mnist/{prefix}", images, labels, Classes);
    }
}
