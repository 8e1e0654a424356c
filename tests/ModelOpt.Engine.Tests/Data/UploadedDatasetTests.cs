using System.IO.Compression;
using System.Runtime.InteropServices;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Engine.Tests.Runtime;

namespace ModelOpt.Engine.Tests.Data;

/// <summary>Uploaded copies of Fashion-MNIST (ImageFolder PNG zip, .npz) against the built-in loader, and NumPy-written .npz files.</summary>
public class UploadedDatasetTests(FashionMnistFixture fashionMnist) : IClassFixture<FashionMnistFixture>
{
    public static readonly string[] ClassNames = ["tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"];
    private static readonly DatasetFileLimits Limits = new();

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "TestData", "datasets", name);

    private DatasetSplits Subset(int train, int test) => new(fashionMnist.Splits.Train.Take(train), fashionMnist.Splits.Test.Take(test));

    private static UploadedDatasetFile Accepted(string path, string fileName, DatasetFileDescription description) =>
        new(path, fileName, description.Format, description.Channels, description.ClassNames,
            description.Height is { } h && description.Width is { } w ? (h, w) : null, "0".PadLeft(64, '0'));

    [Theory]
    [InlineData("fashion.zip")]
    [InlineData("fashion.npz")]
    public void An_uploaded_copy_of_fashion_mnist_gives_the_built_in_tensors_batch_for_batch(string fileName)
    {
        using var folder = new TemporaryFolder();
        using var builtIn = Subset(300, 120);
        var path = Path.Combine(folder.Path, fileName);
        if (fileName.EndsWith(".zip", StringComparison.Ordinal))
        {
            DatasetExport.WriteImageFolderZip(builtIn, ClassNames, path);
        }
        else
        {
            DatasetExport.WriteNpz(builtIn, ClassNames, path);
        }

        var description = UploadedDatasets.Inspect(path, fileName, Limits);
        Assert.Equal((1, 10, 300, 120, 28, 28), (description.Channels, description.Classes, description.TrainCount, description.TestCount, description.Height, description.Width));
        Assert.Equal(ClassNames.Order(StringComparer.Ordinal).ToArray(), fileName.EndsWith(".zip", StringComparison.Ordinal) ? description.ClassNames.ToArray() : description.ClassNames.Order(StringComparer.Ordinal).ToArray());

        using var uploaded = UploadedDatasets.Open(Accepted(path, fileName, description), new DatasetSplitOptions(), Limits);
        foreach (var (split, actual) in new[] { (builtIn.Train, uploaded.Train), (builtIn.Test, uploaded.Test) })
        {
            // ImageFolder lists images by class folder, then file name (the export names each file by its index).
            using var expected = fileName.EndsWith(".zip", StringComparison.Ordinal) ? split.Subset(ClassOrder(split)) : split.Take(split.Count);
            Assert.Equal(expected.Count, actual.Count);
            using var scope = NewDisposeScope();
            foreach (var (e, a) in expected.Batches(64).Zip(actual.Batches(64)))
            {
                TensorAssert.BitIdentical(e.Images, a.Images);
                Assert.Equal(LabelNames(expected, e.Labels, ClassNames), LabelNames(actual, a.Labels, actual.ClassNames!));
            }
        }
    }

    [Fact]
    public void Shuffled_batches_of_a_zip_are_decoded_on_demand_and_leave_no_live_tensors()
    {
        using var folder = new TemporaryFolder();
        using var builtIn = Subset(200, 20);
        var path = Path.Combine(folder.Path, "f.zip");
        DatasetExport.WriteImageFolderZip(builtIn, ClassNames, path);
        using var uploaded = UploadedDatasets.Open(Accepted(path, "f.zip", UploadedDatasets.Inspect(path, "f.zip", Limits)), new DatasetSplitOptions(), Limits);

        Assert.Throws<InvalidOperationException>(() => uploaded.Train.RawImages); // nothing decoded up front
        var statistics = DisposeScopeManager.Statistics;
        statistics.Reset();
        var labels = new List<long>();
        using (var scope = NewDisposeScope())
        {
            foreach (var batch in uploaded.Train.Batches(64, new Random(3)))
            {
                labels.AddRange(batch.Labels.data<long>().ToArray());
                scope.DisposeEverything();
            }
        }
        Assert.Equal(0, statistics.ThreadTotalLiveCount);
        Assert.Equal(uploaded.Train.Labels.data<long>().ToArray().Order(), labels.Order());
    }

    [Fact]
    public void Class_folders_at_the_root_are_one_set_that_a_seeded_fraction_splits()
    {
        using var folder = new TemporaryFolder();
        var path = Path.Combine(folder.Path, "root.zip");
        using (var builtIn = Subset(100, 1))
        {
            DatasetExport.WriteImageFolderZip(builtIn, ClassNames, path);
        }
        var rooted = Path.Combine(folder.Path, "rooted.zip");
        using (var source = ZipFile.OpenRead(path))
        using (var target = ZipFile.Open(rooted, ZipArchiveMode.Create))
        {
            foreach (var entry in source.Entries.Where(e => e.FullName.StartsWith("train/", StringComparison.Ordinal)))
            {
                using var from = entry.Open();
                using var to = target.CreateEntry($"mydata/{entry.FullName["train/".Length..]}").Open();
                from.CopyTo(to);
            }
        }

        var description = UploadedDatasets.Inspect(rooted, "rooted.zip", Limits);
        Assert.True(description.IsSingleSet);
        Assert.Equal(100, description.TrainCount);
        var file = Accepted(rooted, "rooted.zip", description);
        using var a = UploadedDatasets.Open(file, new DatasetSplitOptions { TestFraction = 0.25, Seed = 1 }, Limits);
        using var b = UploadedDatasets.Open(file, new DatasetSplitOptions { TestFraction = 0.25, Seed = 1 }, Limits);
        using var c = UploadedDatasets.Open(file, new DatasetSplitOptions { TestFraction = 0.25, Seed = 2 }, Limits);

        Assert.Equal((75, 25), (a.Train.Count, a.Test.Count));
        Assert.Equal(a.Test.Labels.data<long>().ToArray(), b.Test.Labels.data<long>().ToArray());
        using var scope = NewDisposeScope();
        TensorAssert.BitIdentical(a.Test.Batches(25).Single().Images, b.Test.Batches(25).Single().Images);
        Assert.False(a.Test.Batches(25).Single().Images.bytes.SequenceEqual(c.Test.Batches(25).Single().Images.bytes));
    }

    [Theory]
    [InlineData("fmnist_20.npz")]
    [InlineData("fmnist_20_compressed.npz")]
    public void NumPy_written_npz_files_read_as_the_built_in_images(string fixture)
    {
        var description = UploadedDatasets.Inspect(Fixture(fixture), fixture, Limits);
        Assert.Equal((1, 20, 20), (description.Channels, description.TrainCount, description.TestCount));
        Assert.Equal(fixture.Contains("compressed") ? "0" : "T-shirt/top", description.ClassNames[0]);
        Assert.Equal(10, description.Classes);

        using var uploaded = UploadedDatasets.Open(Accepted(Fixture(fixture), fixture, description), new DatasetSplitOptions(), Limits);
        long[] indices = [.. File.ReadAllLines(Fixture("fmnist_20_indices.txt")).Select(long.Parse)];
        using var builtIn = fashionMnist.Splits.Test.Subset(indices);
        using var scope = NewDisposeScope();
        TensorAssert.BitIdentical(builtIn.Batches(20).Single().Images, uploaded.Test.Batches(20).Single().Images);
        Assert.Equal(builtIn.Labels.data<long>().ToArray(), uploaded.Test.Labels.data<long>().ToArray());
    }

    [Fact]
    public void Preprocessing_matches_torchvision_on_grey_images()
    {
        using var subset = fashionMnist.Splits.Test.Take(16).WithPreprocessing(new ImagePreprocessing { Resize = [36], CenterCrop = [32], Mean = [0.2860], Std = [0.3530] });
        AssertMatches("preprocessed_fmnist_resize36_crop32.f32", subset, [16, 1, 32, 32]);
    }

    [Theory]
    [InlineData("preprocessed_rgb_grayscale_24x20.f32")]
    [InlineData("preprocessed_rgb_resize40_crop30x28.f32")]
    public void Preprocessing_matches_torchvision_on_float32_rgb_nchw_images(string expected)
    {
        const string fixture = "rgb_nchw_float32.npz";
        var description = UploadedDatasets.Inspect(Fixture(fixture), fixture, Limits);
        Assert.Equal((3, 3, 50, 44), (description.Channels, description.Classes, description.Height, description.Width));
        var preprocessing = expected.Contains("grayscale")
            ? new ImagePreprocessing { Resize = [24, 20], Color = ColorConversion.Grayscale }
            : new ImagePreprocessing { Resize = [40], CenterCrop = [30, 28], Mean = [0.485, 0.456, 0.406], Std = [0.229, 0.224, 0.225] };
        using var uploaded = UploadedDatasets.Open(Accepted(Fixture(fixture), fixture, description), new DatasetSplitOptions(), Limits);
        using var test = uploaded.Test.WithPreprocessing(preprocessing);
        AssertMatches(expected, test, expected.Contains("grayscale") ? [6, 1, 24, 20] : [6, 3, 30, 28]);
    }

    [Fact]
    public void Default_preprocessing_is_the_notebook_transform()
    {
        using var scope = NewDisposeScope();
        using var test = fashionMnist.Splits.Test.Take(8);
        var images = test.RawImages;
        TensorAssert.BitIdentical(ImageTransform.ToModelInput(images), ImageTransform.ToModelInput(images, new ImagePreprocessing { Resize = [32, 32], Mean = [0.5], Std = [0.5] }));
        Assert.Equal("Resize((32, 32))[antialias=False] → ToTensor() → Normalize((0.5,), (0.5,))", ImagePreprocessing.Notebook.Describe());
        using var rgb = ImageTransform.ToModelInput(images, new ImagePreprocessing { Color = ColorConversion.Rgb });
        Assert.Equal([8L, 3, 32, 32], rgb.shape);
        TensorAssert.BitIdentical(rgb[.., 0], rgb[.., 2]);
    }

    [Theory]
    [InlineData(CalibrationSampling.First)]
    [InlineData(CalibrationSampling.Random)]
    [InlineData(CalibrationSampling.Stratified)]
    public void Calibration_samples_are_reproducible_and_their_hash_names_the_images(CalibrationSampling sampling)
    {
        using var train = fashionMnist.Splits.Train.Take(2000);
        var a = CalibrationSample.Draw(train, 100, sampling, seed: 4, "ab");
        var b = CalibrationSample.Draw(train, 100, sampling, seed: 4, "ab");
        var otherData = CalibrationSample.Draw(train, 100, sampling, seed: 4, "cd");

        Assert.Equal(a.Indices, b.Indices);
        Assert.Equal(a.Sha256, b.Sha256);
        Assert.Equal(100, a.Indices.Distinct().Count());
        Assert.Equal(a.Indices.Order(), a.Indices);
        Assert.NotEqual(a.Sha256, otherData.Sha256);
        Assert.Equal(CalibrationSample.Hash("ab", a.Indices), a.Sha256);
        var seedMatters = CalibrationSample.Draw(train, 100, sampling, seed: 5, "ab");
        Assert.Equal(sampling != CalibrationSampling.First, seedMatters.Sha256 != a.Sha256);
        if (sampling == CalibrationSampling.First)
        {
            Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), a.Indices);
        }
        if (sampling == CalibrationSampling.Stratified)
        {
            var labels = train.Labels.data<long>().ToArray();
            Assert.All(a.Indices.GroupBy(i => labels[i]), g => Assert.Equal(10, g.Count()));
        }
    }

    [Fact]
    public void The_default_calibration_sample_covers_every_class_of_a_set_listed_class_by_class()
    {
        // An ImageFolder zip is listed class by class (ClassOrder): its first 256 images are of one or two classes.
        using var unsorted = fashionMnist.Splits.Train.Take(2000);
        using var train = unsorted.Subset(ClassOrder(unsorted));
        var labels = train.Labels.data<long>().ToArray();
        var defaults = new QuantizationOptions();

        var sample = CalibrationSample.Draw(train, defaults.CalibrationImages, defaults.CalibrationSampling, defaults.CalibrationSeed, "ab");
        var first = CalibrationSample.Draw(train, defaults.CalibrationImages, CalibrationSampling.First, defaults.CalibrationSeed, "ab");

        Assert.Equal(CalibrationSampling.Stratified, sample.Sampling);
        Assert.Equal(Enumerable.Range(0, 10).Select(c => (long)c), sample.Indices.Select(i => labels[i]).Distinct().Order());
        Assert.Equal((10, 10), (sample.Classes, sample.ClassesCovered));
        Assert.Null(sample.Warning);
        var firstClasses = first.Indices.Select(i => labels[i]).Distinct().Count();
        Assert.True(firstClasses < 10, $"the first 256 of a class-sorted set cover {firstClasses} classes");
        Assert.Equal(firstClasses, first.ClassesCovered);
        Assert.Contains($"covers only {firstClasses} of the 10 classes", first.Warning);
    }

    [Fact]
    public void The_validation_split_is_seeded_stratified_training_images_outside_the_calibration_sample()
    {
        using var train = fashionMnist.Splits.Train.Take(2000);
        var labels = train.Labels.data<long>().ToArray();
        var calibration = CalibrationSample.Draw(train, 256, CalibrationSampling.Stratified, seed: 1, "ab");

        var split = ValidationSplit.Draw(train, 500, seed: 1, calibration);

        Assert.Equal(split.Indices, ValidationSplit.Draw(train, 500, seed: 1, calibration).Indices);
        Assert.NotEqual(split.Indices, ValidationSplit.Draw(train, 500, seed: 2, calibration).Indices);
        Assert.Equal(500, split.Indices.Distinct().Count());
        Assert.Empty(split.Indices.Intersect(calibration.Indices));
        Assert.False(split.OverlapsCalibration);
        Assert.All(split.Indices.GroupBy(i => labels[i]), g => Assert.Equal(50, g.Count()));
        Assert.Equal(CalibrationSample.Hash("ab", split.Indices), split.Sha256);
        // Calibrated on every training image: nothing is left outside, so the split overlaps and says so.
        var everything = CalibrationSample.Draw(train, 2000, CalibrationSampling.First, seed: 1, "ab");
        var overlapping = ValidationSplit.Draw(train, 500, seed: 1, everything);
        Assert.True(overlapping.OverlapsCalibration);
        Assert.Equal(500, overlapping.Count);
    }

    private static void AssertMatches(string expectedFile, ImageDataset data, long[] shape)
    {
        var expected = MemoryMarshal.Cast<byte, float>(File.ReadAllBytes(Fixture(expectedFile))).ToArray();
        using var scope = NewDisposeScope();
        var batch = data.Batches(data.Count).Single();
        Assert.Equal(shape, batch.Images.shape);
        var actual = batch.Images.data<float>().ToArray();
        var worst = expected.Zip(actual, (e, a) => Math.Abs(e - a)).Max();
        Assert.True(worst < 1e-5, $"largest difference from torchvision {worst}");
    }

    private static long[] ClassOrder(ImageDataset data)
    {
        var labels = data.Labels.data<long>().ToArray();
        return [.. Enumerable.Range(0, labels.Length).OrderBy(i => ClassNames[labels[i]], StringComparer.Ordinal).ThenBy(i => i).Select(i => (long)i)];
    }

    private static string[] LabelNames(ImageDataset data, Tensor labels, IReadOnlyList<string> names) =>
        [.. labels.data<long>().ToArray().Select(l => names[(int)l])];
}
