using System.Text.Json;

namespace ModelOpt.Engine.Tests.References;

/// <summary>
/// TensorRT's entropy-calibration thresholds on seeded data, computed by numpy alone in
/// <c>scripts/make_entropy_references.py</c> (its docstring states the algorithm) and written into
/// <c>TestData/references/</c>: <see cref="Data"/> holds one row of float32 values per case.
/// </summary>
internal sealed record EntropyReferences(int Bins, int StartBin, double NearOptimal, TensorFile Data, IReadOnlyList<EntropyReference> Cases)
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public static EntropyReferences FromTestData { get; } = JsonSerializer.Deserialize<EntropyReferences>(
        File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "TestData", "references", "entropy_references.json")), Json)!;

    /// <summary>The values of one case (row <see cref="EntropyReference.Index"/> of the data file).</summary>
    public Tensor Values(EntropyReference reference)
    {
        using var all = PyTorchQuantizationReferences.Read(Data);
        return all[reference.Index].clone();
    }
}

/// <summary>
/// One case, for an observer of <paramref name="Spec"/> (uint8_affine or uint8_symmetric): the reference searched
/// <paramref name="Levels"/> levels (256 when no value is negative and the spec is affine, else 128) and chose
/// <paramref name="Bin"/> of the 2048 bins over [0, <paramref name="AbsMax"/>], threshold <paramref name="Threshold"/>;
/// <paramref name="NearOptimalBins"/> are the candidates whose divergence is within <see cref="EntropyReferences.NearOptimal"/>
/// of the minimum.
/// </summary>
internal sealed record EntropyReference(
    string Name, int Index, string Spec, bool Unsigned, int Levels, double AbsMax, int Bin, double Threshold, double Divergence, int[] NearOptimalBins,
    double Min, double Max)
{
    public override string ToString() => Name;
}
