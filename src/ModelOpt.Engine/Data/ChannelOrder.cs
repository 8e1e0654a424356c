using System.Text.Json.Serialization;

namespace ModelOpt.Engine.Data;

/// <summary>The order of a 3-channel model's input channels: the images are read as RGB; a model trained on OpenCV's images expects BGR.</summary>
/// <remarks>Lower-case on the wire and in stored job specs, as the job settings have always spelt them.</remarks>
public enum ChannelOrder
{
    [JsonStringEnumMemberName("rgb")]
    Rgb,

    /// <summary>Channels reversed after the colour conversion and before Normalize, so mean and std are given in the model's (BGR) order.</summary>
    [JsonStringEnumMemberName("bgr")]
    Bgr,
}
