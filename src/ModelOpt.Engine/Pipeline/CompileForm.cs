namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// One form the compile stage times: how to run it, the file it ships as, and whether it may be delivered. Only int8 forms
/// are deliverable; FP32 forms are timed as baselines for the speed-up, never handed out as the job's int8 model.
/// </summary>
internal sealed class CompileForm(
    string backend, Func<Tensor, Tensor> forward, long sizeBytes, StageArtifact artifact, bool deliverable, string description, IDisposable? owner = null)
    : IDisposable
{
    public string Backend { get; } = backend;

    public Func<Tensor, Tensor> Forward { get; } = forward;

    public long SizeBytes { get; } = sizeBytes;

    public StageArtifact Artifact { get; } = artifact;

    public bool Deliverable { get; } = deliverable;

    /// <summary>What distinguishes this form, for its note: engine, layout, session settings.</summary>
    public string Description { get; } = description;

    public void Dispose() => owner?.Dispose();
}
