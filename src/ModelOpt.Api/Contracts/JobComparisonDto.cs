namespace ModelOpt.Api.Contracts;

// Plain comments, not XML docs: the API's XML file feeds Swashbuckle, and these would change the OpenAPI document (ADR-026).

// One job of GET /api/jobs/compare, in the order asked: its headline and the CPUs its results were measured on.
// MeasuredOnOtherCpu is true when its latencies are not comparable with the first job's (another CPU, or several).
// MeasuredBy: What the job judged its forms by: "top-1", "fidelity to FP32 (output, …)", both joined by " + ", or null before any was measured.
// MeasuredOtherwise: True when MeasuredBy differs from the first job's: its accuracy or fidelity figures are not comparable with the first job's.
public sealed record JobComparisonDto(
    Guid Id, JobStatus Status, string Model, string Dataset, IReadOnlyList<string> CpuModels, bool MeasuredOnOtherCpu, JobHeadline? Headline,
    string? MeasuredBy, bool MeasuredOtherwise);
