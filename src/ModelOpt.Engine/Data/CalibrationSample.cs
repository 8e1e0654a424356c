using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace ModelOpt.Engine.Data;

/// <summary>
/// The images a job calibrated on, as a proof two jobs can compare: <see cref="Sha256"/> is the SHA-256 of the
/// dataset's SHA-256 (64 lowercase hex characters, ASCII) followed by the sorted image indices into the training
/// split, each an int64 little-endian. <see cref="ClassesCovered"/> of the training split's <see cref="Classes"/> have an
/// image in it (both 0 in a sample recorded before they were).
/// </summary>
public sealed record CalibrationSample(
    CalibrationSampling Sampling, int Seed, long[] Indices, string DatasetSha256, string Sha256, int Classes = 0, int ClassesCovered = 0)
{
    public int Count => Indices.Length;

    /// <summary>
    /// A warning when the sample misses classes (an ImageFolder zip lists its images class by class, so <c>first</c> on one
    /// can calibrate on one class only); null when it covers all of them.
    /// </summary>
    public string? Warning => ClassesCovered < Classes
        ? $"calibration sample ({Sampling.ToString().ToLowerInvariant()}, {Count} images) covers only {ClassesCovered} of the {Classes} classes: " +
          "activation ranges may not represent the data (stratified sampling covers every class)"
        : null;

    /// <param name="labelled">
    /// Whether <paramref name="train"/> has class labels: without them no label is read, and <c>stratified</c> falls back to
    /// a seeded random draw (recorded as <see cref="CalibrationSampling.Random"/>, so the sample says what it is).
    /// </param>
    public static CalibrationSample Draw(ImageDataset train, int count, CalibrationSampling sampling, int seed, string datasetSha256, bool labelled = true)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(count);
        var n = Math.Min(count, train.Count);
        if (!labelled && sampling == CalibrationSampling.Stratified)
        {
            sampling = CalibrationSampling.Random;
        }
        var labels = labelled ? train.Labels.data<long>().ToArray() : null;
        long[] indices = sampling switch
        {
            CalibrationSampling.First => [.. Enumerable.Range(0, n).Select(i => (long)i)],
            CalibrationSampling.Random => Shuffled(Enumerable.Range(0, train.Count).Select(i => (long)i), new Random(seed))[..n],
            CalibrationSampling.Stratified => Stratified(labels!, train.Classes, Enumerable.Range(0, train.Count).Select(i => (long)i), n, new Random(seed)),
            _ => throw new ArgumentOutOfRangeException(nameof(sampling), sampling, null),
        };
        Array.Sort(indices);
        if (labels is null)
        {
            return new CalibrationSample(sampling, seed, indices, datasetSha256, Hash(datasetSha256, indices));
        }
        var covered = indices.Select(i => labels[i]).Distinct().Count();
        return new CalibrationSample(sampling, seed, indices, datasetSha256, Hash(datasetSha256, indices), train.Classes, covered);
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

    private static long[] Shuffled(IEnumerable<long> items, Random random)
    {
        var array = items.ToArray();
        random.Shuffle(array);
        return array;
    }
}
