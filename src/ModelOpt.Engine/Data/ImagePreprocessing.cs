using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace ModelOpt.Engine.Data;

/// <summary>
/// A job's input transform in torchvision's vocabulary, applied in its usual order: colour conversion, <c>Resize</c>
/// (bilinear), <c>CenterCrop</c>, <c>ToTensor</c> (uint8 / 255), <c>Normalize(mean, std)</c>; stored with the job and written
/// into the int8 manifest.
/// </summary>
public sealed record ImagePreprocessing
{
    /// <summary>One value: the shorter side, the longer one scaled as torchvision does (truncated). Two values: exact height and width.</summary>
    [MinLength(1), MaxLength(2), Description("Resize (bilinear): [size] sets the shorter side, keeping the aspect ratio; [height, width] is exact. Null: the model's 32x32.")]
    public IReadOnlyList<int>? Resize { get; init; }

    [MinLength(1), MaxLength(2), Description("CenterCrop after the resize: [size] for a square, or [height, width]. Null: no crop.")]
    public IReadOnlyList<int>? CenterCrop { get; init; }

    [Description("Colour conversion first: none | grayscale (torchvision's Grayscale(1): 0.2989 R + 0.587 G + 0.114 B) | rgb (grey repeated to 3 channels).")]
    public ColorConversion Color { get; init; } = ColorConversion.None;

    [MinLength(1), MaxLength(3), Description("Normalize mean, one value for all channels or one per channel. Null: the notebook's 0.5.")]
    public IReadOnlyList<double>? Mean { get; init; }

    [MinLength(1), MaxLength(3), Description("Normalize std, one value for all channels or one per channel. Null: the notebook's 0.5.")]
    public IReadOnlyList<double>? Std { get; init; }

    [Description("Antialiased downscaling, as torchvision's antialias=True. Off by default, as the notebook's reference was made.")]
    public bool Antialias { get; init; }

    [Description("Channel order the model expects: rgb | bgr (a model trained on OpenCV's images; the channels are reversed before Normalize, so mean and std are given in BGR order).")]
    public ChannelOrder ChannelOrder { get; init; } = ChannelOrder.Rgb;

    public const double DefaultMean = 0.5;
    public const double DefaultStd = 0.5;

    /// <summary>The notebook's transform: Resize(32), ToTensor, Normalize((0.5,), (0.5,)).</summary>
    public static ImagePreprocessing Notebook { get; } = new();

    [JsonIgnore]
    public IReadOnlyList<double> MeanOrDefault => Mean ?? [DefaultMean];

    [JsonIgnore]
    public IReadOnlyList<double> StdOrDefault => Std ?? [DefaultStd];

    /// <summary>Channels after the colour conversion of images with <paramref name="inputChannels"/> channels.</summary>
    public int OutputChannels(int inputChannels) => Color switch
    {
        ColorConversion.Grayscale => 1,
        ColorConversion.Rgb => 3,
        _ => inputChannels,
    };

    /// <summary>Height and width after resize and crop of an image of <paramref name="height"/> x <paramref name="width"/>.</summary>
    public (int Height, int Width) OutputSize(int height, int width)
    {
        var (h, w) = ResizedSize(height, width);
        return CenterCrop switch
        {
            [var side] => (side, side),
            [var cropHeight, var cropWidth] => (cropHeight, cropWidth),
            _ => (h, w),
        };
    }

    /// <summary>Whether every image leaves the transform at the same size, whatever its own size.</summary>
    [JsonIgnore]
    public bool HasFixedOutputSize => CenterCrop is { Count: > 0 } || Resize is not [_];

    /// <summary>The problem with these settings for images of <paramref name="channels"/> channels, or null when they are usable.</summary>
    public string? Problem(int channels)
    {
        if (Resize is { Count: not (1 or 2) } || Resize?.Any(v => v is < 1 or > 4096) == true)
        {
            return "resize takes one value (the shorter side) or two (height, width), each 1-4096.";
        }
        if (CenterCrop is { Count: not (1 or 2) } || CenterCrop?.Any(v => v is < 1 or > 4096) == true)
        {
            return "centerCrop takes one value (a square) or two (height, width), each 1-4096.";
        }
        var output = OutputChannels(channels);
        if (ChannelOrder == ChannelOrder.Bgr && output != 3)
        {
            return $"channelOrder bgr reorders three channels; the transformed images have {output}.";
        }
        foreach (var (name, values) in new[] { ("mean", MeanOrDefault), ("std", StdOrDefault) })
        {
            if (values.Count != 1 && values.Count != output)
            {
                return $"{name} has {values.Count} values; the transformed images have {output} channel(s): give 1 or {output}.";
            }
            if (values.Any(v => !double.IsFinite(v)))
            {
                return $"{name} values must be finite numbers.";
            }
        }
        return StdOrDefault.Any(s => s <= 0) ? "std values must be positive." : null;
    }

    /// <summary>What torchvision writes for this transform, for the manifest and the job page.</summary>
    public string Describe()
    {
        var steps = new List<string>();
        if (Color != ColorConversion.None)
        {
            steps.Add(Color == ColorConversion.Grayscale ? "Grayscale(num_output_channels=1)" : "ConvertRGB()");
        }
        steps.Add(Resize switch
        {
            [var side] => $"Resize({side})",
            [var h, var w] => $"Resize(({h}, {w}))",
            _ => $"Resize(({ImageTransform.ImageSize}, {ImageTransform.ImageSize}))",
        } + (Antialias ? "" : "[antialias=False]"));
        switch (CenterCrop)
        {
            case [var side]:
                steps.Add($"CenterCrop({side})");
                break;
            case [var h, var w]:
                steps.Add($"CenterCrop(({h}, {w}))");
                break;
        }
        steps.Add("ToTensor()");
        if (ChannelOrder == ChannelOrder.Bgr)
        {
            steps.Add("RGB→BGR (x[:, [2, 1, 0]])");
        }
        steps.Add($"Normalize(({Join(MeanOrDefault)}), ({Join(StdOrDefault)}))");
        return string.Join(" → ", steps);

        static string Join(IReadOnlyList<double> values) => string.Join(", ", values.Select(v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + (values.Count == 1 ? "," : "");
    }

    internal (int Height, int Width) ResizedSize(int height, int width) => Resize switch
    {
        // torchvision's _compute_resized_output_size: the long side is int(size * long / short).
        [var side] when height <= width => (side, (int)((long)side * width / height)),
        [var side] => ((int)((long)side * height / width), side),
        [var h, var w] => (h, w),
        _ => (ImageTransform.ImageSize, ImageTransform.ImageSize),
    };
}
