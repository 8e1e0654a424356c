namespace ModelOpt.Engine.Quantization.Config;

/// <summary>
/// How one tensor is quantized, as <c>torch.ao.quantization.quantizer.QuantizationSpec</c>. The integer range defaults to
/// the full range of <see cref="Dtype"/> (see <see cref="QuantizedDecomposed.DtypeBounds"/>); a narrower range is a
/// "customized" range. Validated on construction so that a bad recipe fails before any calibration runs.
/// </summary>
public sealed record QuantizationSpec
{
    public QuantizationSpec(ScalarType dtype, QScheme qscheme, long? quantMin = null, long? quantMax = null, long? chAxis = null, bool isDynamic = false)
    {
        if (!QuantizedDecomposed.DtypeBounds.TryGetValue(dtype, out var bounds))
        {
            throw new ArgumentException(
                $"Unsupported quantized dtype {dtype}; expected one of {string.Join(", ", QuantizedDecomposed.DtypeBounds.Keys)}.", nameof(dtype));
        }
        var min = quantMin ?? bounds.Min;
        var max = quantMax ?? bounds.Max;
        if (min < bounds.Min || min > bounds.Max)
        {
            throw new ArgumentOutOfRangeException(nameof(quantMin), min, $"quant_min must lie in [{bounds.Min}, {bounds.Max}] for {dtype}.");
        }
        if (max < bounds.Min || max > bounds.Max)
        {
            throw new ArgumentOutOfRangeException(nameof(quantMax), max, $"quant_max must lie in [{bounds.Min}, {bounds.Max}] for {dtype}.");
        }
        if (min >= max)
        {
            throw new ArgumentException($"quant_min ({min}) must be less than quant_max ({max}).", nameof(quantMin));
        }
        if (!Enum.IsDefined(qscheme))
        {
            throw new ArgumentOutOfRangeException(nameof(qscheme), qscheme, "Unknown qscheme.");
        }
        var perChannel = qscheme is QScheme.PerChannelAffine or QScheme.PerChannelSymmetric;
        if (perChannel && chAxis is null)
        {
            throw new ArgumentException($"{qscheme} needs a channel axis (ch_axis).", nameof(chAxis));
        }
        if (chAxis < 0)
        {
            throw new ArgumentOutOfRangeException(nameof(chAxis), chAxis, "ch_axis must be non-negative.");
        }
        if (isDynamic)
        {
            throw new ArgumentException("Dynamic quantization is not supported: ModelOpt calibrates static activation ranges.", nameof(isDynamic));
        }
        Dtype = dtype;
        QScheme = qscheme;
        QuantMin = min;
        QuantMax = max;
        ChAxis = chAxis;
        IsDynamic = isDynamic;
    }

    public ScalarType Dtype { get; }

    public QScheme QScheme { get; }

    public long QuantMin { get; }

    public long QuantMax { get; }

    public long? ChAxis { get; }

    public bool IsDynamic { get; }

    public bool IsPerChannel => QScheme is QScheme.PerChannelAffine or QScheme.PerChannelSymmetric;

    public bool IsSymmetric => QScheme is QScheme.PerTensorSymmetric or QScheme.PerChannelSymmetric;

    /// <summary>Whether <see cref="QuantMin"/>..<see cref="QuantMax"/> is narrower than the dtype's full range.</summary>
    public bool HasCustomizedQRange => (QuantMin, QuantMax) != QuantizedDecomposed.DtypeBounds[Dtype];

    public override string ToString() =>
        $"{Dtype} [{QuantMin}, {QuantMax}] {QScheme}{(ChAxis is { } axis ? $" ch_axis={axis}" : "")}";
}
