namespace ModelOpt.Engine.Checkpoints.Pickle;

/// <summary>A Python global the pickle named and the allowlist accepted, e.g. <c>torch._utils._rebuild_tensor_v2</c>.</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}
