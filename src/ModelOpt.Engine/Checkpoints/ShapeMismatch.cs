namespace ModelOpt.Engine.Checkpoints;

/// <summary>A state_dict entry present in both checkpoint and model, but with a different shape.</summary>
public sealed record ShapeMismatch(string Key, long[] CheckpointShape, long[] ModelShape)
{
    public override string ToString() => $"{Key} is {Format(CheckpointShape)}, model expects {Format(ModelShape)}";

    internal static string Format(long[] shape) => $"[{string.Join(",", shape)}]";
}
