using System.Text.Json.Serialization;

namespace ModelOpt.Engine.Data;

/// <summary>torchvision's colour transforms: <c>Grayscale(1)</c> and the RGB conversion ImageFolder's loader does.</summary>
/// <remarks>Lower-case on the wire and in stored job specs, as the job settings have always spelt them.</remarks>
public enum ColorConversion
{
    /// <summary>Keep the dataset's channels.</summary>
    [JsonStringEnumMemberName("none")]
    None,

    /// <summary>One channel: 0.2989 R + 0.587 G + 0.114 B, as torchvision's tensor <c>rgb_to_grayscale</c>; grey data stays as it is.</summary>
    [JsonStringEnumMemberName("grayscale")]
    Grayscale,

    /// <summary>Three channels: a grey channel repeated, as PIL's <c>convert("RGB")</c>; RGB data stays as it is.</summary>
    [JsonStringEnumMemberName("rgb")]
    Rgb,
}
