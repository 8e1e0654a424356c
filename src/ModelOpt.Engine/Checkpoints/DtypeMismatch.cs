namespace ModelOpt.Engine.Checkpoints;

/// <summary>A state_dict entry whose element type cannot be converted to the model's (e.g. int8 weights into a float32 conv).</summary>
public sealed record DtypeMismatch(string Key, ScalarType CheckpointDtype, ScalarType ModelDtype)
{
    public override string ToString() => $"{Key} is {CheckpointDtype}, model expects {ModelDtype}";
}
