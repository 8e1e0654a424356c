namespace ModelOpt.Jobs.Workers;

/// <summary>
/// The CPU a worker measures latencies on, and the instruction sets its int8 kernels use: AVX2 (the baseline of
/// FBGEMM / oneDNN int8), AVX-512 VNNI (int8 dot products) and AMX (int8 tile matrix multiply, Sapphire Rapids and later).
/// </summary>
public sealed record CpuDescription(string Model, bool Avx2, bool Avx512Vnni, bool Amx)
{
    public const string CpuInfoPath = "/proc/cpuinfo";

    /// <summary>This machine's CPU; the model is "unknown" where <c>/proc/cpuinfo</c> does not exist (not Linux).</summary>
    public static CpuDescription OfThisMachine() =>
        File.Exists(CpuInfoPath) ? Parse(File.ReadAllText(CpuInfoPath)) : new CpuDescription("unknown", false, false, false);

    /// <summary>Reads the first processor's <c>model name</c> and <c>flags</c> (x86) lines of <c>/proc/cpuinfo</c>.</summary>
    public static CpuDescription Parse(string cpuInfo)
    {
        string? model = null;
        HashSet<string> flags = [];
        foreach (var line in cpuInfo.Split('\n'))
        {
            var colon = line.IndexOf(':');
            if (colon < 0)
            {
                continue;
            }
            var key = line[..colon].Trim();
            var value = line[(colon + 1)..].Trim();
            if (model is null && key is "model name" or "Model")
            {
                model = value;
            }
            else if (flags.Count == 0 && key is "flags" or "Features")
            {
                flags = value.Split(' ', StringSplitOptions.RemoveEmptyEntries).ToHashSet(StringComparer.Ordinal);
            }
        }
        return new CpuDescription(string.IsNullOrWhiteSpace(model) ? "unknown" : model,
            flags.Contains("avx2"), flags.Contains("avx512_vnni"), flags.Contains("amx_int8"));
    }
}
