namespace ModelOpt.Engine.Checkpoints;

/// <summary>What a state_dict entry is without its data: shape and dtype.</summary>
public sealed record TensorSpec(long[] Shape, ScalarType Dtype)
{
    public static TensorSpec Of(Tensor tensor) => new(tensor.shape, tensor.dtype);

    public bool Equals(TensorSpec? other) => other is not null && Dtype == other.Dtype && Shape.SequenceEqual(other.Shape);

    public override int GetHashCode() => HashCode.Combine(Dtype, Shape.Length, Shape.Length > 0 ? Shape[0] : 0);

    public override string ToString() => $"{ShapeMismatch.Format(Shape)} {Dtype}";
}
