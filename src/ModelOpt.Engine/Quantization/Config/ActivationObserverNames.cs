namespace ModelOpt.Engine.Quantization.Config;

/// <summary>The activation observers a job names, in one list: the factory, the API's validation and description, the job form and the bench read it.</summary>
public static class ActivationObserverNames
{
    public const string MinMax = "minmax";
    public const string MovingAverageMinMax = "moving_average_minmax";
    public const string Histogram = "histogram";
    public const string Percentile = "percentile";
    public const string Entropy = "entropy";
    public const string Mse = "mse";

    /// <summary>No observer: calibrate quantizes with each of <see cref="AutoCandidates"/> and keeps the best on the validation subset.</summary>
    public const string Auto = "auto";

    /// <summary>The observers <see cref="QConfigFactory"/> builds.</summary>
    public static IReadOnlyList<string> Observers { get; } = [MinMax, MovingAverageMinMax, Histogram, Percentile, Entropy, Mse];

    /// <summary>What <see cref="Auto"/> tries, the default first (it wins ties).</summary>
    public static IReadOnlyList<string> AutoCandidates { get; } = [Histogram, Entropy, Percentile, Mse];

    /// <summary>What a job may ask for.</summary>
    public static IReadOnlyList<string> Choices { get; } = [.. Observers, Auto];
}
