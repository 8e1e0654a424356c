namespace ModelOpt.Engine.Data;

/// <summary>
/// A job's input transform in torchvision's vocabulary, applied in its usual order: colour conversion, <c>Resize</c>
/// (bilinear), <c>CenterCrop</c>, <c>ToTensor</c> (uint8 / 255), <c>Normalize(mean, std)</c>.
/// </summary>
/// <param name="Resize">Null: the model's input size (32x32). One value: the shorter side, the longer one scaled as torchvision does
/// (truncated). Two values: exact height and width.</param>
/// <param name="CenterCrop">Null: none. One value: a square; two: height and width.</param>
/// <param name="Mean">Per channel, or one value for every channel.</param>
/// <param name="Std">Per channel, or one value for every channel.</param>
/// <param name="Antialias">torchvision's <c>antialias</c> for downscaling; off by default, as the notebook's fixture was made.</param>
/// <param name="ChannelOrder">BGR reverses the three channels before Normalize (mean and std are in the model's order).</param>
public sealed record ImagePreprocessing(
    IReadOnlyList<int>? Resize = null,
    IReadOnlyList<int>? CenterCrop = null,
    ColorConversion Color = ColorConversion.None,
    IReadOnlyList<double>? Mean = null,
    IReadOnlyList<double>? Std = null,
    bool Antialias = false,
    ChannelOrder ChannelOrder = ChannelOrder.Rgb)
{
    public const double DefaultMean = 0.5;
    public const double DefaultStd = 0.5;

    /// <summary>The notebook's transform: Resize(32), ToTensor, Normalize((0.5,), (0.5,)).</summary>
    public static ImagePreprocessing Notebook { get; } = new();

    public IReadOnlyList<double> MeanOrDefault => Mean ?? [DefaultMean];

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
