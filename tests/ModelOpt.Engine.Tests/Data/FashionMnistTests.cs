using System.IO.Compression;
using System.Runtime.InteropServices;
using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Tests.Data;

public class FashionMnistTests(FashionMnistFixture fashionMnist) : IClassFixture<FashionMnistFixture>
{
    [Fact]
    public void Splits_hold_60000_and_10000_images_balanced_over_10_classes()
    {
        var (train, test) = fashionMnist.Splits;
        Assert.Equal(60_000, train.Count);
        Assert.Equal(10_000, test.Count);
        Assert.Equal([60_000, 1, 28, 28], train.RawImages.shape);
        Assert.All(train.ClassCounts(), count => Assert.Equal(6_000, count));
        Assert.All(test.ClassCounts(), count => Assert.Equal(1_000, count));
    }

    [Fact]
    public void Transformed_pixels_span_exactly_minus_one_to_one()
    {
        using var scope = NewDisposeScope();
        using var subset = fashionMnist.Splits.Test.Take(1_000);
        var batch = subset.Batches(1_000).Single();
        Assert.Equal([1_000, 1, 32, 32], batch.Images.shape);
        Assert.Equal(ScalarType.Float32, batch.Images.dtype);
        Assert.Equal(-1f, batch.Images.min().item<float>());
        Assert.Equal(1f, batch.Images.max().item<float>());
    }

    [Fact]
    public void First_test_images_match_pytorch_transform()
    {
        var bytes = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "TestData", "input_fmnist_test_first8_8x1x32x32.f32"));
        var expected = MemoryMarshal.Cast<byte, float>(bytes).ToArray();
        using var scope = NewDisposeScope();
        var batch = fashionMnist.Splits.Test.Batches(8).First();
        var actual = batch.Images.data<float>().ToArray();
        Assert.Equal(expected.Length, actual.Length);
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst <= 1e-5, $"largest difference from PyTorch is {worst}");
    }

    [Fact]
    public void Missing_file_is_named_in_the_error()
    {
        using var folder = new TemporaryFolder();
        var error = Assert.Throws<DatasetException>(() => FashionMnist.Load(folder.Path));
        Assert.Contains("train-images-idx3-ubyte.gz", error.Message);
        Assert.Contains("not found", error.Message);
        Assert.False(DatasetCatalog.IsAvailable(DatasetCatalog.FashionMnistName, folder.Path));
    }

    [Fact]
    public void Wrong_magic_number_is_reported_with_the_file()
    {
        using var folder = new TemporaryFolder();
        var path = Path.Combine(folder.Path, "train-images-idx3-ubyte.gz");
        using (var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            gzip.Write([0, 0, 8, 1, 0, 0, 0, 1, 7]); // a labels header where images belong
        }
        var error = Assert.Throws<DatasetException>(() => FashionMnist.Load(folder.Path));
        Assert.Equal(path, error.FilePath);
        Assert.Contains("magic number", error.Message);
    }

    [Fact]
    public void Truncated_data_is_reported_with_the_file()
    {
        using var folder = new TemporaryFolder();
        var path = Path.Combine(folder.Path, "train-images-idx3-ubyte.gz");
        using (var gzip = new GZipStream(File.Create(path), CompressionLevel.Fastest))
        {
            gzip.Write([0, 0, 8, 3, 0, 0, 0, 2, 0, 0, 0, 28, 0, 0, 0, 28, 1, 2, 3]);
        }
        var error = Assert.Throws<DatasetException>(() => FashionMnist.Load(folder.Path));
        Assert.Contains(path, error.Message);
        Assert.Contains("ends before", error.Message);
    }
}
