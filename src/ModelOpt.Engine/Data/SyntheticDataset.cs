namespace ModelOpt.Engine.Data;

/// <summary>
/// A small learnable dataset for tests and demos, identical for identical arguments: each class has its own random
/// prototype image, and every sample is its class prototype blended with uniform noise.
/// </summary>
public static class SyntheticDataset
{
    public const int DefaultClasses = 10;
    public const int DefaultChannels = 3;

    /// <param name="signal">Weight of the class prototype against noise, in [0, 1]: higher is easier to learn.</param>
    public static DatasetSplits Create(
        int seed = 0,
        int channels = DefaultChannels,
        int classes = DefaultClasses,
        int trainCount = 1000,
        int testCount = 200,
        int side = ImageTransform.ImageSize,
        double signal = 0.6)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(channels);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(side);
        if (signal is < 0 or > 1)
        {
            throw new ArgumentOutOfRangeException(nameof(signal), signal, "The signal weight must lie in [0, 1].");
        }
        var random = new Random(seed);
        var imageBytes = channels * side * side;
        var prototypes = new byte[classes][];
        for (var c = 0; c < classes; c++)
        {
            prototypes[c] = new byte[imageBytes];
            random.NextBytes(prototypes[c]);
        }
        var train = Generate("synthetic/train", trainCount);
        return new DatasetSplits(train, Generate("synthetic/test", testCount));

        ImageDataset Generate(string name, int count)
        {
            var pixels = new byte[(long)count * imageBytes];
            var labels = new long[count];
            var noise = new byte[imageBytes];
            for (var i = 0; i < count; i++)
            {
                var label = random.Next(classes);
                labels[i] = label;
                random.NextBytes(noise);
                var image = pixels.AsSpan(i * imageBytes, imageBytes);
                for (var p = 0; p < imageBytes; p++)
                {
                    image[p] = (byte)Math.Round(signal * prototypes[label][p] + (1 - signal) * noise[p]);
                }
            }
            return new ImageDataset(name, tensor(pixels, [count, channels, side, side], ScalarType.Byte), tensor(labels), classes);
        }
    }
}
