using System.Text.Json.Serialization;

namespace ModelOpt.Engine.Data;

/// <summary>How the calibration images are drawn from the training split.</summary>
/// <remarks>Lower-case on the wire and in stored job specs, as the job settings have always spelt them.</remarks>
public enum CalibrationSampling
{
    /// <summary>The first N, as the notebook's <c>Subset(train, range(n))</c>.</summary>
    [JsonStringEnumMemberName("first")]
    First,

    /// <summary>N drawn without replacement by a seeded shuffle.</summary>
    [JsonStringEnumMemberName("random")]
    Random,

    /// <summary>
    /// As equal a share of every class as N allows (seeded draw inside each class; classes with fewer images give all they
    /// have). On a set without labels, the seeded <see cref="Random"/> draw, recorded as such.
    /// </summary>
    [JsonStringEnumMemberName("stratified")]
    Stratified,
}
