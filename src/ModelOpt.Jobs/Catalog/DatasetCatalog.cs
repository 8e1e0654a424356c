using ModelOpt.Jobs.Options;

namespace ModelOpt.Jobs.Catalog;

/// <summary>
/// The engine's three datasets with the files their loaders read. Until the engine's own catalogue is merged this
/// class names them here; then <see cref="IsAvailable"/> should delegate to the engine (one place knows the formats).
/// </summary>
public sealed class DatasetCatalog(IOptions<DatasetOptions> options) : IDatasetCatalog
{
    public const string FashionMnist = "fashion-mnist";
    public const string Cifar10 = "cifar10";
    public const string Synthetic = "synthetic";

    private static readonly Dictionary<string, string> UsualPaths = new(StringComparer.OrdinalIgnoreCase)
    {
        [FashionMnist] = "/usr/share/datasets/fashion-mnist",
        [Cifar10] = "/usr/share/datasets/cifar10",
    };

    private static readonly Dictionary<string, string[]> RequiredFiles = new(StringComparer.OrdinalIgnoreCase)
    {
        [FashionMnist] = ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"],
        [Cifar10] = ["data_batch_1.bin", "test_batch.bin"],
    };

    public IReadOnlyList<DatasetInfo> All { get; } =
    [
        new(FashionMnist, "Fashion-MNIST: 60k/10k 28x28 grey images of 10 clothing classes (IDX .gz files), resized to 32x32", 1, 10),
        new(Cifar10, "CIFAR-10: 50k/10k 32x32 colour images of 10 classes (the binary batches data_batch_*.bin, test_batch.bin)", 3, 10),
        new(Synthetic, "Synthetic: deterministic random 32x32 colour images of 10 classes; needs no files", 3, 10),
    ];

    public DatasetInfo? Find(string name) => All.FirstOrDefault(d => string.Equals(d.Name, name, StringComparison.OrdinalIgnoreCase));

    public string? DefaultPath(string name) =>
        options.Value.Paths.TryGetValue(name, out var configured) ? configured
        : UsualPaths.TryGetValue(name, out var usual) ? usual
        : null;

    public bool IsAvailable(string name, string? path)
    {
        if (Find(name) is null)
        {
            return false;
        }
        if (!RequiredFiles.TryGetValue(name, out var files))
        {
            return true; // synthetic
        }
        var folder = path ?? DefaultPath(name);
        return folder is not null && files.All(f => File.Exists(Path.Combine(folder, f)));
    }
}
