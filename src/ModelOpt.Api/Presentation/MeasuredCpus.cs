namespace ModelOpt.Api.Presentation;

/// <summary>
/// Which CPUs a job's results were measured on, and whether two jobs' latencies may be compared: only when every
/// measured stage of both ran on one and the same CPU. Used by GET /api/jobs/compare and the /compare page.
/// </summary>
public static class MeasuredCpus
{
    /// <summary>The CPUs of the job's stages that have results (more than one when another worker resumed it).</summary>
    public static IReadOnlyList<string> Of(JobDto job) =>
        job.Stages.Where(s => s.Results.Count > 0 && s.CpuModel is not null).Select(s => s.CpuModel!).Distinct().Order().ToList();

    /// <summary>
    /// Whether <paramref name="job"/>'s latencies are not comparable with <paramref name="reference"/>'s: measured on
    /// several CPUs, or on another one. Jobs measured before stages recorded their CPU have none and are not flagged.
    /// </summary>
    public static bool DifferFrom(JobDto reference, JobDto job)
    {
        var expected = Of(reference);
        var cpus = Of(job);
        return cpus.Count > 1 || (cpus.Count == 1 && expected.Count >= 1 && !expected.SequenceEqual(cpus));
    }
}
