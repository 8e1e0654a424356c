using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Tests.Data;

public class Cifar10Tests
{
    private const int RecordBytes = 3073;

    [Fact]
    public void Reads_labels_and_channel_planes_of_every_batch_file()
    {
        using var folder = new TemporaryFolder();
        WriteDataset(folder.Path, recordsPerFile: 3);
        Assert.True(DatasetCatalog.IsAvailable(DatasetCatalog.Cifar10Name, folder.Path));

        using var splits = DatasetCatalog.Open(DatasetCatalog.Cifar10Name, folder.Path);
        Assert.Equal(15, splits.Train.Count);
        Assert.Equal(3, splits.Test.Count);
        Assert.Equal([15, 3, 32, 32], splits.Train.RawImages.shape);
        // Record r of data_batch_f has label (f + r) % 10 and planes filled with 10r + channel.
        Assert.Equal([1L, 2, 3, 2, 3, 4], splits.Train.Labels.data<long>().ToArray()[..6]);
        using var fifthRecord = splits.Train.RawImages[4];
        Assert.Equal([(byte)10, 11, 12], [.. Enumerable.Range(0, 3).Select(c => fifthRecord[c, 31, 0].item<byte>())]);
        Assert.Equal(0, splits.Test.Labels[0].item<long>());
    }

    [Fact]
    public void Resize_is_identity_at_32_pixels()
    {
        using var folder = new TemporaryFolder();
        WriteDataset(folder.Path, recordsPerFile: 1);
        using var splits = Cifar10.Load(folder.Path);
        using var batch = splits.Test.Batches(1).Single();
        // A plane of byte value v becomes (v/255 - 0.5) / 0.5 unchanged by the resize.
        Assert.Equal((0 / 255f - 0.5f) / 0.5f, batch.Images[0, 0, 5, 5].item<float>(), 6);
        Assert.Equal((2 / 255f - 0.5f) / 0.5f, batch.Images[0, 2, 5, 5].item<float>(), 6);
    }

    [Fact]
    public void Length_not_a_multiple_of_the_record_names_the_file()
    {
        using var folder = new TemporaryFolder();
        WriteDataset(folder.Path, recordsPerFile: 2);
        var broken = Path.Combine(folder.Path, "data_batch_3.bin");
        File.WriteAllBytes(broken, new byte[RecordBytes * 2 + 5]);

        var error = Assert.Throws<DatasetException>(() => Cifar10.Load(folder.Path));
        Assert.Equal(broken, error.FilePath);
        Assert.Contains(broken, error.Message);
        Assert.Contains("3073", error.Message);
    }

    [Fact]
    public void Label_out_of_range_names_the_file()
    {
        using var folder = new TemporaryFolder();
        WriteDataset(folder.Path, recordsPerFile: 1);
        var broken = Path.Combine(folder.Path, "test_batch.bin");
        var record = new byte[RecordBytes];
        record[0] = 10;
        File.WriteAllBytes(broken, record);

        var error = Assert.Throws<DatasetException>(() => Cifar10.Load(folder.Path));
        Assert.Contains(broken, error.Message);
        Assert.Contains("label 10", error.Message);
    }

    [Fact]
    public void Missing_batch_file_names_it_and_the_catalogue_reports_it_unavailable()
    {
        using var folder = new TemporaryFolder();
        WriteDataset(folder.Path, recordsPerFile: 1);
        File.Delete(Path.Combine(folder.Path, "data_batch_5.bin"));

        Assert.False(DatasetCatalog.IsAvailable(DatasetCatalog.Cifar10Name, folder.Path));
        var error = Assert.Throws<DatasetException>(() => Cifar10.Load(folder.Path));
        Assert.Contains("data_batch_5.bin", error.Message);
    }

    private static void WriteDataset(string folder, int recordsPerFile)
    {
        for (var f = 1; f <= 5; f++)
        {
            WriteBatchFile(Path.Combine(folder, $"data_batch_{f}.bin"), f, recordsPerFile);
        }
        WriteBatchFile(Path.Combine(folder, "test_batch.bin"), 0, recordsPerFile);
    }

    private static void WriteBatchFile(string path, int fileNumber, int records)
    {
        var content = new byte[records * RecordBytes];
        for (var r = 0; r < records; r++)
        {
            var record = content.AsSpan(r * RecordBytes, RecordBytes);
            record[0] = (byte)((fileNumber + r) % 10);
            for (var channel = 0; channel < 3; channel++)
            {
                record.Slice(1 + channel * 1024, 1024).Fill((byte)(10 * r + channel));
            }
        }
        File.WriteAllBytes(path, content);
    }
}
