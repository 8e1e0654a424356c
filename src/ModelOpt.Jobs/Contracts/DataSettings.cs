using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using ModelOpt.Engine.Data;
using ModelOpt.Engine.Data.Uploaded;

namespace ModelOpt.Jobs.Contracts;

/// <summary>The job's input transform in torchvision's vocabulary; stored with the job and written into the int8 manifest.</summary>
public sealed class PreprocessingSettings
{
    [MinLength(1), MaxLength(2), Description("Resize (bilinear): [size] sets the shorter side, keeping the aspect ratio; [height, width] is exact. Null: the model's 32x32.")]
    public int[]? Resize { get; set; }

    [MinLength(1), MaxLength(2), Description("CenterCrop after the resize: [size] for a square, or [height, width]. Null: no crop.")]
    public int[]? CenterCrop { get; set; }

    [Required, AllowedValues("none", "grayscale", "rgb"),
     Description("Colour conversion first: none | grayscale (torchvision's Grayscale(1): 0.2989 R + 0.587 G + 0.114 B) | rgb (grey repeated to 3 channels).")]
    public string Color { get; set; } = "none";

    [MinLength(1), MaxLength(3), Description("Normalize mean, one value for all channels or one per channel. Null: the notebook's 0.5.")]
    public double[]? Mean { get; set; }

    [MinLength(1), MaxLength(3), Description("Normalize std, one value for all channels or one per channel. Null: the notebook's 0.5.")]
    public double[]? Std { get; set; }

    [Description("Antialiased downscaling, as torchvision's antialias=True. Off by default, as the notebook's reference was made.")]
    public bool Antialias { get; set; }

    [Required, AllowedValues("rgb", "bgr"),
     Description("Channel order the model expects: rgb | bgr (a model trained on OpenCV's images; the channels are reversed before Normalize, so mean and std are given in BGR order).")]
    public string ChannelOrder { get; set; } = "rgb";

    public ImagePreprocessing ToEngine() => new(Resize, CenterCrop, Enum.Parse<ColorConversion>(Color, ignoreCase: true), Mean, Std, Antialias,
        Enum.Parse<ChannelOrder>(ChannelOrder, ignoreCase: true));
}

/// <summary>How a dataset uploaded as one set (class folders at the zip's root) is split into train and test for this job.</summary>
public sealed class SplitSettings
{
    [Range(0.01, 0.99), Description("Share of the images held out as the test split.")]
    public double TestFraction { get; set; } = 0.2;

    [Range(0, int.MaxValue), Description("Seed of the split: the same seed gives the same split.")]
    public int Seed { get; set; }

    public DatasetSplitOptions ToEngine() => new(TestFraction, Seed);
}
