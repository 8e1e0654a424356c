namespace ModelOpt.Engine.Data;

/// <summary>The datasets a job can name.</summary>
public static class DatasetCatalog
{
    public const string FashionMnistName = "fashion-mnist";
    public const string Cifar10Name = "cifar10";
    public const string SyntheticName = "synthetic";

    public static IReadOnlyList<DatasetInfo> All { get; } =
    [
        new(FashionMnistName,
            "Zalando Fashion-MNIST, 28x28 grey, resized to 32x32; 60 000 train / 10 000 test",
            FashionMnist.Channels, FashionMnist.Classes, FashionMnist.DefaultFolder, FashionMnist.Files,
            path => FashionMnist.Load(path))
        {
            ClassNames = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"],
            TrainImages = 60_000, TestImages = 10_000, ImageSide = 28,
        },
        new(Cifar10Name,
            "CIFAR-10 binary batches, 32x32 RGB; 50 000 train / 10 000 test; the folder must be given",
            Cifar10.Channels, Cifar10.Classes, null, Cifar10.Files,
            path => Cifar10.Load(path ?? throw new DatasetException("CIFAR-10 has no default folder: give the folder holding data_batch_1..5.bin and test_batch.bin.")))
        {
            ClassNames = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"],
            TrainImages = 50_000, TestImages = 10_000, ImageSide = 32,
        },
        new(SyntheticName,
            "Generated class prototypes plus noise, 3x32x32, 10 classes; 1 000 train / 200 test (seed 0)",
            SyntheticDataset.DefaultChannels, SyntheticDataset.DefaultClasses, null, [],
            _ => SyntheticDataset.Create())
        {
            TrainImages = 1_000, TestImages = 200, ImageSide = ImageTransform.ImageSize,
        },
    ];

    public static DatasetInfo Get(string name) =>
        All.FirstOrDefault(d => d.Name == name)
        ?? throw new UnknownDatasetException(name, All.Select(d => d.Name));

    public static bool IsAvailable(string name, string? path = null) => Get(name).IsAvailable(path);

    public static DatasetSplits Open(string name, string? path = null) => Get(name).Open(path);
}
