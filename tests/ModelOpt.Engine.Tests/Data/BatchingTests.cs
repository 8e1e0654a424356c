using ModelOpt.Engine.Data;

namespace ModelOpt.Engine.Tests.Data;

public class BatchingTests
{
    [Fact]
    public void Seeded_shuffle_is_reproducible_and_seeds_differ()
    {
        using var splits = SyntheticDataset.Create(trainCount: 300);
        var first = LabelOrder(splits.Train, new Random(7));
        var again = LabelOrder(splits.Train, new Random(7));
        var otherSeed = LabelOrder(splits.Train, new Random(8));

        Assert.Equal(first, again);
        Assert.NotEqual(first, otherSeed);
        Assert.NotEqual(LabelOrder(splits.Train, shuffle: null), first);
        Assert.Equal(LabelOrder(splits.Train, shuffle: null).Order(), first.Order());
    }

    [Fact]
    public void Consecutive_epochs_from_one_random_differ()
    {
        using var splits = SyntheticDataset.Create(trainCount: 300);
        var shuffle = new Random(3);
        Assert.NotEqual(LabelOrder(splits.Train, shuffle), LabelOrder(splits.Train, shuffle));
    }

    [Fact]
    public void In_order_batches_follow_the_stored_labels_and_end_with_the_remainder()
    {
        using var splits = SyntheticDataset.Create(trainCount: 300);
        using var scope = NewDisposeScope();
        var batches = splits.Train.Batches(128).ToList();

        Assert.Equal([128L, 128, 44], batches.Select(b => b.Count));
        Assert.Equal(3, splits.Train.BatchCount(128));
        Assert.Equal(splits.Train.Labels.data<long>().ToArray(), batches.SelectMany(b => b.Labels.data<long>().ToArray()));
        Assert.All(batches, b => Assert.Equal([b.Count, 3, 32, 32], b.Images.shape));
    }

    [Fact]
    public void Take_keeps_the_first_images()
    {
        using var splits = SyntheticDataset.Create(trainCount: 300);
        using var calibration = splits.Train.Take(256);
        using var everything = splits.Train.Take(10_000);

        Assert.Equal(256, calibration.Count);
        Assert.Equal(300, everything.Count);
        Assert.Equal(splits.Train.Labels.data<long>().ToArray()[..256], calibration.Labels.data<long>().ToArray());
        using var firstImages = splits.Train.RawImages.narrow(0, 0, 256);
        Assert.Equal(firstImages.data<byte>().ToArray(), calibration.RawImages.data<byte>().ToArray());
    }

    [Fact]
    public void Iterating_inside_a_scope_leaves_no_live_tensors()
    {
        using var splits = SyntheticDataset.Create(trainCount: 300);
        var shuffle = new Random(1);
        var statistics = DisposeScopeManager.Statistics;
        statistics.Reset();
        using (var scope = NewDisposeScope())
        {
            foreach (var batch in splits.Train.Batches(64, shuffle))
            {
                using var logits = batch.Images.mean([1, 2, 3]);
                scope.DisposeEverything();
            }
        }
        Assert.Equal(0, statistics.ThreadTotalLiveCount);
    }

    [Fact]
    public void Synthetic_data_depends_only_on_the_seed()
    {
        using var a = SyntheticDataset.Create(seed: 5, channels: 1, classes: 4, trainCount: 50, testCount: 10, side: 28);
        using var b = SyntheticDataset.Create(seed: 5, channels: 1, classes: 4, trainCount: 50, testCount: 10, side: 28);
        using var c = SyntheticDataset.Create(seed: 6, channels: 1, classes: 4, trainCount: 50, testCount: 10, side: 28);

        Assert.Equal([50L, 1, 28, 28], a.Train.RawImages.shape);
        Assert.Equal(a.Train.RawImages.data<byte>().ToArray(), b.Train.RawImages.data<byte>().ToArray());
        Assert.Equal(a.Test.Labels.data<long>().ToArray(), b.Test.Labels.data<long>().ToArray());
        Assert.NotEqual(a.Train.RawImages.data<byte>().ToArray(), c.Train.RawImages.data<byte>().ToArray());
        Assert.All(a.Train.Labels.data<long>().ToArray(), label => Assert.InRange(label, 0, 3));
    }

    private static long[] LabelOrder(ImageDataset data, Random? shuffle)
    {
        using var scope = NewDisposeScope();
        return [.. data.Batches(50, shuffle).SelectMany(b => b.Labels.data<long>().ToArray())];
    }
}
