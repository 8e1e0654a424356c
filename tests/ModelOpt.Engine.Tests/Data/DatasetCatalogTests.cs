using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Tests.Data;

public class DatasetCatalogTests
{
    [Theory]
    [InlineData(DatasetCatalog.FashionMnistName, 1, 10)]
    [InlineData(DatasetCatalog.Cifar10Name, 3, 10)]
    [InlineData(DatasetCatalog.SyntheticName, 3, 10)]
    public void Knows_channels_and_classes(string name, int channels, int classes)
    {
        var info = DatasetCatalog.Get(name);
        Assert.Equal(channels, info.Channels);
        Assert.Equal(classes, info.Classes);
    }

    [Fact]
    public void Fashion_mnist_is_available_at_its_default_folder()
    {
        Assert.Equal("/usr/share/datasets/fashion-mnist", DatasetCatalog.Get(DatasetCatalog.FashionMnistName).DefaultPath);
        Assert.True(DatasetCatalog.IsAvailable(DatasetCatalog.FashionMnistName));
    }

    [Fact]
    public void Cifar10_needs_a_folder()
    {
        Assert.False(DatasetCatalog.IsAvailable(DatasetCatalog.Cifar10Name));
        Assert.Throws<DatasetException>(() => DatasetCatalog.Open(DatasetCatalog.Cifar10Name));
    }

    [Fact]
    public void Synthetic_opens_anywhere_with_the_catalogued_shape()
    {
        Assert.True(DatasetCatalog.IsAvailable(DatasetCatalog.SyntheticName, "/nonexistent"));
        using var splits = DatasetCatalog.Open(DatasetCatalog.SyntheticName);
        Assert.Equal(3, splits.Train.Channels);
        Assert.Equal(10, splits.Test.Classes);
    }

    [Fact]
    public void Unknown_dataset_lists_the_known_ones()
    {
        var error = Assert.Throws<UnknownDatasetException>(() => DatasetCatalog.Get("imagenet"));
        Assert.Contains("fashion-mnist", error.Message);
        Assert.Contains("cifar10", error.Message);
    }
}
