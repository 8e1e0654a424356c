namespace ModelOpt.Jobs.Model;

/// <summary>One int8 layer of a job's per-layer sensitivity report (from calibrate); <see cref="Rank"/> 0 is the most sensitive.</summary>
public sealed class JobLayer
{
    public long Id { get; set; }
    public Guid JobId { get; set; }
    public int Rank { get; set; }
    public required string Layer { get; set; }
    public required string Kind { get; set; }
    public double SqnrDb { get; set; }
    public double Mse { get; set; }
    public double ActivationMin { get; set; }
    public double ActivationMax { get; set; }
    public double OutputScale { get; set; }
    public long OutputZeroPoint { get; set; }
    public double? AccuracyGainWhenFloat { get; set; }
}
