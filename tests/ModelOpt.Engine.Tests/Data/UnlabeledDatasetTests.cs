using System.IO.Compression;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Sources;
using ModelOpt.Engine.Data.Uploaded;
using ModelOpt.Engine.Tests.Runtime;
using SixLabors.ImageSharp;
using SixLabors.ImageSharp.PixelFormats;

namespace ModelOpt.Engine.Tests.Data;

/// <summary>
/// Datasets without labels, on tiny files made here: which ImageFolder zip layouts and .npz files read as unlabeled, which
/// are refused, and what an unlabeled set does (no labels anywhere, calibration and validation draws without classes).
/// </summary>
public class UnlabeledDatasetTests
{
    private const int Height = 8;
    private const int Width = 12;
    private static readonly DatasetFileLimits Limits = new();

    /// <summary>Image i of every zip made here: seeded RGB noise, so that a wrong order or a lost channel shows.</summary>
    private static readonly byte[][] Pixels = [.. Enumerable.Range(0, 6).Select(Noise)];

    public static TheoryData<string, string[], int, int> UnlabeledLayouts => new()
    {
        { "images at the root", ["a.png", "b.png", "c.png", "d.png", "e.png"], 5, 0 },
        { "one folder of images", ["photos/a.png", "photos/b.png", "photos/c.png", "photos/d.png", "photos/e.png"], 5, 0 },
        { "train/ and test/ without class folders", ["train/a.png", "train/b.png", "train/c.png", "test/d.png", "test/e.png"], 3, 2 },
        { "both wrapped in a folder", ["data/train/a.png", "data/train/b.png", "data/train/c.png", "data/val/d.png", "data/val/e.png"], 3, 2 },
    };

    [Theory]
    [MemberData(nameof(UnlabeledLayouts))]
    public void Images_without_class_folders_are_an_unlabeled_set_in_name_order(string layout, string[] names, int train, int test)
    {
        using var folder = new TemporaryFolder();
        var path = WriteZip(folder, names);

        var description = UploadedDatasets.Inspect(path, "images.zip", Limits);

        Assert.False(description.IsLabeled, layout);
        Assert.Empty(description.ClassNames);
        Assert.Equal((3, train, test, Height, Width), (description.Channels, description.TrainCount, description.TestCount, description.Height, description.Width));
        using var splits = UploadedDatasets.Open(Accepted(path, description), new DatasetSplitOptions { TestFraction = 0.4, Seed = 1 }, Limits);
        Assert.Equal(test == 0 ? (3, 2) : (train, test), (splits.Train.Count, splits.Test.Count));
        foreach (var set in new[] { splits.Train, splits.Test })
        {
            Assert.False(set.IsLabeled);
            Assert.Equal(0, set.Classes);
            Assert.Null(set.ClassNames);
            Assert.Contains("has no labels", Assert.Throws<InvalidOperationException>(() => set.Labels).Message);
            Assert.Throws<InvalidOperationException>(set.ClassCounts);
        }
        if (test > 0)
        {
            // Files in name order: the stored pixels of images 0..4, train then test.
            using var scope = NewDisposeScope();
            using var raw = ImageDataset.Unlabeled("raw", RawImages(0, 5));
            var expected = raw.Batches(5).Single().Images;
            TensorAssert.BitIdentical(expected[..3], splits.Train.Batches(8).Single().Images);
            TensorAssert.BitIdentical(expected[3..], splits.Test.Batches(8).Single().Images);
        }
    }

    [Fact]
    public void A_single_unlabeled_set_is_split_by_the_seeded_test_fraction()
    {
        using var folder = new TemporaryFolder();
        var path = WriteZip(folder, ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"]);
        var file = Accepted(path, UploadedDatasets.Inspect(path, "images.zip", Limits));
        var (expectedTrain, expectedTest) = new DatasetSplitOptions { TestFraction = 0.5, Seed = 3 }.Split(6);

        using var splits = UploadedDatasets.Open(file, new DatasetSplitOptions { TestFraction = 0.5, Seed = 3 }, Limits);

        using var scope = NewDisposeScope();
        using var all = ImageDataset.Unlabeled("raw", RawImages(0, 6));
        using var train = all.Subset(expectedTrain);
        using var test = all.Subset(expectedTest);
        TensorAssert.BitIdentical(train.Batches(6).Single().Images, splits.Train.Batches(6).Single().Images);
        TensorAssert.BitIdentical(test.Batches(6).Single().Images, splits.Test.Batches(6).Single().Images);
    }

    [Fact]
    public void Batches_of_an_unlabeled_set_carry_no_labels_and_take_the_jobs_transform()
    {
        using var folder = new TemporaryFolder();
        var path = WriteZip(folder, ["a.png", "b.png", "c.png", "d.png"]);
        var preprocessing = new ImagePreprocessing { Resize = [6, 10], Mean = [0.4, 0.5, 0.6], Std = [0.2, 0.25, 0.3], ChannelOrder = ChannelOrder.Bgr };
        using var splits = UploadedDatasets.Open(Accepted(path, UploadedDatasets.Inspect(path, "images.zip", Limits)), new DatasetSplitOptions { TestFraction = 0.25 }, Limits);
        using var train = splits.Train.WithPreprocessing(preprocessing);

        using var scope = NewDisposeScope();
        var batch = train.Batches(8).Single();

        Assert.False(batch.IsLabeled);
        Assert.Equal(3, batch.Count);
        Assert.Throws<InvalidOperationException>(() => batch.Labels);
        using var raw = RawImages(0, 4);
        var (trainIndices, _) = new DatasetSplitOptions { TestFraction = 0.25 }.Split(4);
        TensorAssert.BitIdentical(ImageTransform.ToModelInput(raw.Read(trainIndices).Single(), preprocessing), batch.Images);
        Assert.Equal([3L, 3, 6, 10], batch.Images.shape);
    }

    public static TheoryData<string, string[], string> RefusedZips => new()
    {
        { "images beside class folders", ["a.png", "cat/b.png", "dog/c.png"], "'a.png' lies directly in the zip's root but 'cat/b.png' is in a class folder" },
        { "a split mixing both", ["train/a.png", "train/cat/b.png", "train/dog/c.png", "test/cat/d.png", "test/dog/e.png"], "'train/a.png' lies directly in 'train/'" },
        { "a labelled train/ and an unlabeled test/", ["train/cat/a.png", "train/dog/b.png", "test/c.png"], "'train/' has class folders but 'test/' holds its images without them" },
        { "an image beside the splits", ["x.png", "train/a.png", "test/b.png"], "'x.png' lies directly in the zip's root beside 'train/' and 'test/'" },
        { "one class folder per split", ["train/cat/a.png", "test/cat/b.png"], "'train/' has one class folder ('cat')" },
    };

    [Theory]
    [MemberData(nameof(RefusedZips))]
    public void A_zip_mixing_labelled_and_unlabeled_layouts_is_refused_naming_the_entries(string layout, string[] names, string reason)
    {
        using var folder = new TemporaryFolder();
        var path = WriteZip(folder, names);

        var error = Assert.Throws<DatasetException>(() => UploadedDatasets.Inspect(path, "mixed.zip", Limits));

        Assert.StartsWith("mixed.zip: ", error.Message);
        Assert.True(error.Message.Contains(reason, StringComparison.Ordinal), $"{layout}: {error.Message}");
        Assert.DoesNotContain(folder.Path, error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("../evil.png", "zip slip")]
    [InlineData("notes.txt", "'notes.txt' is not an image")]
    [InlineData("pixels", "its images decode to more than 500 pixels in all")]
    public void An_unlabeled_zip_passes_every_check_a_labelled_one_does(string extra, string reason)
    {
        using var folder = new TemporaryFolder();
        // Six 8x12 images decode to 576 pixels: past a budget of 500.
        string[] names = extra == "pixels" ? ["a.png", "b.png", "c.png", "d.png", "e.png", "f.png"] : ["a.png", "b.png", extra];
        var path = WriteZip(folder, names);

        var error = Assert.Throws<DatasetException>(() => UploadedDatasets.Inspect(path, "images.zip", Limits with { MaxDecodedPixels = 500 }));

        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_npz_with_only_image_arrays_is_unlabeled_and_reads_its_pixels()
    {
        using var folder = new TemporaryFolder();
        var path = WriteNpz(folder, ["x_train", "x_test"]);

        var description = UploadedDatasets.Inspect(path, "images.npz", Limits);

        Assert.False(description.IsLabeled);
        Assert.Equal((3, 4, 2, Height, Width), (description.Channels, description.TrainCount, description.TestCount, description.Height, description.Width));
        using var splits = UploadedDatasets.Open(Accepted(path, description), new DatasetSplitOptions(), Limits);
        Assert.False(splits.Train.IsLabeled || splits.Test.IsLabeled);
        Assert.Equal(0, splits.Test.Classes);
        using var scope = NewDisposeScope();
        var batch = splits.Test.Batches(2).Single();
        Assert.False(batch.IsLabeled);
        using var raw = ImageDataset.Unlabeled("raw", RawImages(4, 2));
        TensorAssert.BitIdentical(raw.Batches(2).Single().Images, batch.Images);
    }

    [Theory]
    [InlineData("x_train,y_train,x_test", "it has 'y_train' but no 'y_test' array: give both label arrays (a labelled set) or neither")]
    [InlineData("x_train,x_test,y_test", "it has 'y_test' but no 'y_train' array")]
    [InlineData("x_train,x_test,class_names", "it has 'class_names' but no y_train or y_test: class names need label arrays")]
    [InlineData("x_train", "it has no 'x_test' array")]
    public void An_npz_with_half_its_labels_is_refused(string arrays, string reason)
    {
        using var folder = new TemporaryFolder();
        var path = WriteNpz(folder, arrays.Split(','));

        var error = Assert.Throws<DatasetException>(() => UploadedDatasets.Inspect(path, "half.npz", Limits));

        Assert.StartsWith("half.npz: ", error.Message);
        Assert.Contains(reason, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Stratified_calibration_on_an_unlabeled_set_is_the_seeded_random_draw_and_says_so()
    {
        using var train = ImageDataset.Unlabeled("unlabeled", new TensorImageSource(zeros(new long[] { 40, 1, 2, 2 }, ScalarType.Byte)));

        var sample = CalibrationSample.Draw(train, 10, CalibrationSampling.Stratified, seed: 7, "ab");
        var random = CalibrationSample.Draw(train, 10, CalibrationSampling.Random, seed: 7, "ab");

        Assert.Equal(random.Indices, sample.Indices);
        Assert.Equal((CalibrationSampling.Random, CalibrationSampling.Stratified), (sample.Sampling, sample.Requested));
        Assert.Equal((0, 0), (sample.Classes, sample.ClassesCovered));
        Assert.Contains("the dataset has no labels, so stratified sampling fell back to a seeded random draw of 10 images (seed 7)", sample.Warning);
        Assert.Null(random.Requested);
        Assert.Null(random.Warning);
        Assert.NotEqual(sample.Indices, CalibrationSample.Draw(train, 10, CalibrationSampling.Stratified, seed: 8, "ab").Indices);
    }

    [Fact]
    public void The_validation_split_of_an_unlabeled_set_is_a_seeded_random_draw_outside_the_calibration_sample()
    {
        using var train = ImageDataset.Unlabeled("unlabeled", new TensorImageSource(zeros(new long[] { 40, 1, 2, 2 }, ScalarType.Byte)));
        var calibration = CalibrationSample.Draw(train, 10, CalibrationSampling.Stratified, seed: 1, "ab");

        var split = ValidationSplit.Draw(train, 12, seed: 1, calibration);

        Assert.Equal(split.Indices, ValidationSplit.Draw(train, 12, seed: 1, calibration).Indices);
        Assert.NotEqual(split.Indices, ValidationSplit.Draw(train, 12, seed: 2, calibration).Indices);
        Assert.Equal(12, split.Indices.Distinct().Count());
        Assert.Empty(split.Indices.Intersect(calibration.Indices));
        Assert.False(split.OverlapsCalibration);
        // More than is left outside the sample: every other image, no more.
        Assert.Equal(30, ValidationSplit.Draw(train, 100, seed: 1, calibration).Count);
    }

    private static UploadedDatasetFile Accepted(string path, DatasetFileDescription description) =>
        new(path, Path.GetFileName(path), description.Format, description.Channels, description.ClassNames,
            description.Height is { } h && description.Width is { } w ? (h, w) : null, "0".PadLeft(64, '0'));

    /// <summary>A zip whose i-th entry (in the order given) is image i.</summary>
    private static string WriteZip(TemporaryFolder folder, string[] names)
    {
        var path = System.IO.Path.Combine(folder.Path, "images.zip");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        for (var i = 0; i < names.Length; i++)
        {
            using var stream = zip.CreateEntry(names[i]).Open();
            using var image = Image.LoadPixelData<Rgb24>(Pixels[i], Width, Height);
            image.SaveAsPng(stream);
        }
        return path;
    }

    /// <summary>An .npz of the given arrays: x_train is images 0-3 and x_test images 4-5 (uint8 NHWC), labels 0,1,0,1 and 0,1.</summary>
    private static string WriteNpz(TemporaryFolder folder, string[] arrays)
    {
        var path = System.IO.Path.Combine(folder.Path, "images.npz");
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        foreach (var name in arrays)
        {
            switch (name)
            {
                case "x_train":
                    DatasetExport.WriteArray(zip, name, "|u1", [4, Height, Width, 3], Pixels[..4].SelectMany(p => p).ToArray());
                    break;
                case "x_test":
                    DatasetExport.WriteArray(zip, name, "|u1", [2, Height, Width, 3], Pixels[4..].SelectMany(p => p).ToArray());
                    break;
                case "y_train":
                    DatasetExport.WriteArray(zip, name, "|u1", [4], [0, 1, 0, 1]);
                    break;
                case "y_test":
                    DatasetExport.WriteArray(zip, name, "|u1", [2], [0, 1]);
                    break;
                default:
                    DatasetExport.WriteArray(zip, name, "<U1", [2], [.. "a\0\0\0b\0\0\0"u8]);
                    break;
            }
        }
        return path;
    }

    /// <summary>Images <paramref name="first"/>.. as a uint8 (N,3,H,W) source, straight from their pixels.</summary>
    private static TensorImageSource RawImages(int first, int count)
    {
        using var scope = NewDisposeScope();
        var hwc = tensor(Pixels[first..(first + count)].SelectMany(p => p).ToArray(), [count, Height, Width, 3], ScalarType.Byte);
        return new TensorImageSource(hwc.permute(0, 3, 1, 2).contiguous().MoveToOuterDisposeScope());
    }

    private static byte[] Noise(int seed)
    {
        var bytes = new byte[Height * Width * 3];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
