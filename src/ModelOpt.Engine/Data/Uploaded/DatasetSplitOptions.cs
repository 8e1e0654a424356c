using System.ComponentModel;
using System.ComponentModel.DataAnnotations;

namespace ModelOpt.Engine.Data.Uploaded;

/// <summary>How a dataset uploaded as one set (class folders at the zip's root) is split into train and test for a job.</summary>
public sealed record DatasetSplitOptions
{
    [Range(0.01, 0.99), Description("Share of the images held out as the test split.")]
    public double TestFraction { get; init; } = 0.2;

    [Range(0, int.MaxValue), Description("Seed of the split: the same seed gives the same split.")]
    public int Seed { get; init; }

    /// <summary>Ascending train and test indices of a set of <paramref name="count"/> images.</summary>
    public (long[] Train, long[] Test) Split(int count)
    {
        if (TestFraction is <= 0 or >= 1)
        {
            throw new DatasetException($"The test fraction must lie strictly between 0 and 1, not {TestFraction}.");
        }
        var order = new long[count];
        for (var i = 0; i < count; i++)
        {
            order[i] = i;
        }
        new Random(Seed).Shuffle(order);
        var testCount = (int)Math.Round(count * TestFraction, MidpointRounding.AwayFromZero);
        if (testCount == 0 || testCount == count)
        {
            throw new DatasetException($"A test fraction of {TestFraction} of {count} images leaves no image for train or for test.");
        }
        return ([.. order[testCount..].Order()], [.. order[..testCount].Order()]);
    }
}
