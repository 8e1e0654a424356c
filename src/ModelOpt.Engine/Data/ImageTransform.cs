using static TorchSharp.torch.nn.functional;

namespace ModelOpt.Engine.Data;

/// <summary>
/// A job's <see cref="ImagePreprocessing"/> applied to a whole batch of equal-sized images: scale uint8 to [0,1]
/// (float32 images are taken as already scaled, as ToTensor leaves them), colour conversion, bilinear resize
/// (align_corners=False, as torch.nn.functional.interpolate), center crop, channel order, normalize. The default is the notebook's
/// transform: resize to 32x32, then Normalize((0.5,), (0.5,)).
/// </summary>
/// <remarks>
/// The notebook resizes PIL images before ToTensor, which rounds to uint8 in between; resizing floats instead differs
/// by up to ~2/255 per pixel on Fashion-MNIST and matches the PyTorch-made fixture exactly.
/// </remarks>
public static class ImageTransform
{
    public const int ImageSize = 32;

    // torchvision's rgb_to_grayscale weights (ITU-R BT.601 luma).
    private static readonly float[] GrayscaleWeights = [0.2989f, 0.587f, 0.114f];

    /// <summary>The notebook's transform; returns a new float32 (N,C,32,32) tensor and leaves the input untouched.</summary>
    public static Tensor ToModelInput(Tensor images) => ToModelInput(images, ImagePreprocessing.Notebook);

    /// <summary>Returns a new float32 (N,C',H',W') tensor; the uint8 or float32 (N,C,H,W) input is left untouched.</summary>
    public static Tensor ToModelInput(Tensor images, ImagePreprocessing preprocessing)
    {
        if (images.dtype is not (ScalarType.Byte or ScalarType.Float32) || images.dim() != 4)
        {
            throw new ArgumentException($"Expected uint8 or float32 images shaped (N,C,H,W), got {images.dtype} {FormatShape(images.shape)}.", nameof(images));
        }
        using var scope = NewDisposeScope();
        var x = images.dtype == ScalarType.Byte ? images.to_type(ScalarType.Float32).div_(255.0) : images.clone();
        x = ConvertColor(x, preprocessing.Color);
        var (height, width) = preprocessing.ResizedSize((int)x.shape[2], (int)x.shape[3]);
        if (x.shape[2] != height || x.shape[3] != width)
        {
            x = interpolate(x, [height, width], mode: InterpolationMode.Bilinear, align_corners: false, antialias: preprocessing.Antialias);
        }
        var (cropHeight, cropWidth) = preprocessing.OutputSize(height, width);
        if (cropHeight != height || cropWidth != width)
        {
            x = CenterCrop(x, cropHeight, cropWidth);
        }
        if (preprocessing.ChannelOrder == ChannelOrder.Bgr)
        {
            x = x.flip(1);
        }
        var channels = x.shape[1];
        var mean = PerChannel(preprocessing.MeanOrDefault, channels);
        var std = PerChannel(preprocessing.StdOrDefault, channels);
        return x.sub_(mean).div_(std).MoveToOuterDisposeScope();
    }

    private static Tensor ConvertColor(Tensor x, ColorConversion color) => (color, x.shape[1]) switch
    {
        (ColorConversion.Grayscale, 3) => (x * tensor(GrayscaleWeights).view(1, 3, 1, 1)).sum(1, keepdim: true),
        (ColorConversion.Rgb, 1) => x.expand(-1, 3, -1, -1).contiguous(),
        (ColorConversion.None, _) or (ColorConversion.Grayscale, 1) or (ColorConversion.Rgb, 3) => x,
        _ => throw new ArgumentException($"Cannot convert {x.shape[1]}-channel images to {color}: images have 1 (grey) or 3 (RGB) channels."),
    };

    /// <summary>torchvision's center_crop: offsets int(round((size - crop) / 2)), with Python's round-half-to-even.</summary>
    private static Tensor CenterCrop(Tensor x, int height, int width)
    {
        if (height > x.shape[2] || width > x.shape[3])
        {
            throw new DatasetException($"centerCrop {height}x{width} is larger than the resized image ({x.shape[2]}x{x.shape[3]}); resize to at least the crop size.");
        }
        var top = (long)Math.Round((x.shape[2] - height) / 2.0, MidpointRounding.ToEven);
        var left = (long)Math.Round((x.shape[3] - width) / 2.0, MidpointRounding.ToEven);
        return x.narrow(2, top, height).narrow(3, left, width);
    }

    private static Tensor PerChannel(IReadOnlyList<double> values, long channels) =>
        values.Count == 1
            ? tensor((float)values[0])
            : values.Count == channels
                ? tensor(values.Select(v => (float)v).ToArray()).view(1, channels, 1, 1)
                : throw new ArgumentException($"{values.Count} normalization values for {channels}-channel images: give 1 or {channels}.");

    private static string FormatShape(long[] shape) => $"({string.Join(",", shape)})";
}
