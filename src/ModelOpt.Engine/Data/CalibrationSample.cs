using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ModelOpt.Engine.Data;

/// <summary>
/// The images a job calibrated on, as a proof two jobs can compare: <see cref="Sha256"/> is the SHA-256 of the
/// dataset's SHA-256 (64 lowercase hex characters, ASCII) followed by the sorted image indices into the training
/// split, each an int64 little-endian. <see cref="ClassesCovered"/> of the training split's <see cref="Classes"/> have an
/// image in it (both 0 in a sample recorded before they were, and for an unlabeled set). <see cref="Sampling"/> is how the
/// images were drawn; <see cref="Requested"/> is set only when that differs from what the job asked for: stratified
/// sampling on a set without labels falls back to a seeded random draw.
/// </summary>
public sealed record CalibrationSample(
    CalibrationSampling Sampling, int Seed, long[] Indices, string DatasetSha256, string Sha256, int Classes = 0, int ClassesCovered = 0,
    CalibrationSampling? Requested = null)
{
    public int Count => Indices.Length;

    /// <summary>
    /// A warning when the sample misses classes (an ImageFolder zip lists its images class by class, so <c>first</c> on one
    /// can calibrate on one class only), or a note that stratified sampling fell back to a random draw on a set without
    /// labels; null otherwise.
    /// </summary>
    public string? Warning => Requested is { } requested && requested != Sampling
        ? $"calibration sample: the dataset has no labels, so {requested.ToString().ToLowerInvariant()} sampling fell back to a seeded " +
          $"{Sampling.ToString().ToLowerInvariant()} draw of {Count} images (seed {Seed})"
        : ClassesCovered < Classes
        ? $"calibration sample ({Sampling.ToString().ToLowerInvariant()}, {Count} images) covers only {ClassesCovered} of the {Classes} classes: " +
          "activation ranges may not represent the data (stratified sampling covers every class)"
        : null;

    public static CalibrationSample Draw(ImageDataset train, int count, CalibrationSampling sampling, int seed, string datasetSha256)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var n = Math.Min(count, train.Count);
        // Without labels there are no classes to stratify by: the same seed draws at random instead.
        var drawn = sampling == CalibrationSampling.Stratified && !train.IsLabeled ? CalibrationSampling.Random : sampling;
        var labels = train.IsLabeled ? train.Labels.data<long>().ToArray() : [];
        long[] indices = drawn switch
        {
            CalibrationSampling.First => [.. Enumerable.Range(0, n).Select(i => (long)i)],
            CalibrationSampling.Random => Shuffled(Enumerable.Range(0, train.Count).Select(i => (long)i), new Random(seed))[..n],
            CalibrationSampling.Stratified => Stratified(labels!, train.Classes, Enumerable.Range(0, train.Count).Select(i => (long)i), n, new Random(seed)),
            _ => throw new ArgumentOutOfRangeException(nameof(sampling), sampling, null),
        };
        Array.Sort(indices);
        var covered = train.IsLabeled ? indices.Select(i => labels[i]).Distinct().Count() : 0;
        return new CalibrationSample(drawn, seed, indices, datasetSha256, Hash(datasetSha256, indices), train.Classes, covered,
            drawn == sampling ? null : sampling);
    }

    public static string Hash(string datasetSha256, IReadOnlyList<long> sortedIndices)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.ASCII.GetBytes(datasetSha256));
        Span<byte> value = stackalloc byte[8];
        foreach (var index in sortedIndices)
        {
            BinaryPrimitives.WriteInt64LittleEndian(value, index);
            hash.AppendData(value);
        }
        return Convert.ToHexStringLower(hash.GetHashAndReset());
    }

    /// <summary>Round-robin over the classes in label order, each class's <paramref name="candidates"/> in a seeded order.</summary>
    internal static long[] Stratified(long[] labels, int classes, IEnumerable<long> candidates, int n, Random random)
    {
        var pool = candidates.ToArray();
        n = Math.Min(n, pool.Length);
        var byClass = Enumerable.Range(0, classes)
            .Select(c => new Queue<long>(Shuffled(pool.Where(i => labels[i] == c), random)))
            .ToList();
        var picked = new List<long>(n);
        while (picked.Count < n)
        {
            foreach (var queue in byClass.Where(q => q.Count > 0))
            {
                if (picked.Count == n)
                {
                    break;
                }
                picked.Add(queue.Dequeue());
            }
        }
        return [.. picked];
    }

    internal static long[] Shuffled(IEnumerable<long> items, Random random)
    {
        var array = items.ToArray();
        random.Shuffle(array);
        return array;
    }
}
