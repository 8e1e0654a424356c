namespace ModelOpt.Engine.Checkpoints.Pickle;

/// <summary>A <c>persistent_load</c> storage reference: <c>('storage', torch.FloatStorage, key, location, numel)</c>; its bytes are the archive's <c>data/{Key}</c>.</summary>
internal sealed record PickledStorage(string Key, ScalarType Dtype, long ElementCount);
