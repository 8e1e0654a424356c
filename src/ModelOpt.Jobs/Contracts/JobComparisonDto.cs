namespace ModelOpt.Jobs.Contracts;

/// <summary>
/// One job of GET /api/jobs/compare, in the order asked: its headline and the CPUs its results were measured on.
/// <c>MeasuredOnOtherCpu</c> is true when its latencies are not comparable with the first job's (another CPU, or several).
/// </summary>
public sealed record JobComparisonDto(
    Guid Id, JobStatus Status, string Model, string Dataset, IReadOnlyList<string> CpuModels, bool MeasuredOnOtherCpu, JobHeadline? Headline);
