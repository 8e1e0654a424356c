namespace ModelOpt.Engine.Data.Uploaded.Npy;

/// <summary>
/// How an image array is laid out: NHW (grey), NHWC or NCHW, with 1 or 3 channels. A 4-D array whose last axis is 1 or 3
/// is NHWC (NumPy and Keras' usual order), otherwise one whose second axis is 1 or 3 is NCHW (PyTorch's).
/// </summary>
internal sealed record NpyImageLayout(long Count, int Channels, int Height, int Width, bool ChannelsLast, bool IsFloat)
{
    public int ElementBytes => IsFloat ? 4 : 1;

    public long ImageBytes => (long)Channels * Height * Width * ElementBytes;

    /// <summary>The array's data bytes; null when the header's count times the image size does not fit a long.</summary>
    public long? DataBytes => Count <= long.MaxValue / ImageBytes ? Count * ImageBytes : null;

    public static NpyImageLayout Of(NpyHeader header, string arrayName)
    {
        var isFloat = header.Descr switch
        {
            "|u1" or "<u1" or "u1" => false,
            "<f4" or "f4" => true,
            _ => throw new DatasetException($"'{arrayName}' has dtype '{header.Descr}'; images must be uint8 (0-255) or float32 ([0, 1]), little-endian."),
        };
        if (header.FortranOrder)
        {
            throw new DatasetException($"'{arrayName}' is stored in Fortran order; save it in C order (np.ascontiguousarray).");
        }
        var s = header.Shape;
        var layout = s.Length switch
        {
            3 => new NpyImageLayout(s[0], 1, Side(s[1]), Side(s[2]), false, isFloat),
            4 when s[3] is 1 or 3 => new NpyImageLayout(s[0], (int)s[3], Side(s[1]), Side(s[2]), true, isFloat),
            4 when s[1] is 1 or 3 => new NpyImageLayout(s[0], (int)s[1], Side(s[2]), Side(s[3]), false, isFloat),
            4 => throw new DatasetException($"'{arrayName}' has shape ({string.Join(", ", s)}): neither its last axis (NHWC) nor its second (NCHW) is 1 or 3 channels."),
            _ => throw new DatasetException($"'{arrayName}' has {s.Length} dimensions; images are NHW, NHWC or NCHW."),
        };
        return layout.Count > 0 && layout.Height > 0 && layout.Width > 0
            ? layout
            : throw new DatasetException($"'{arrayName}' has shape ({string.Join(", ", s)}): it holds no images.");

        int Side(long value) => value <= 65_536 ? (int)value
            : throw new DatasetException($"'{arrayName}' has an image side of {value} pixels.");
    }
}
