namespace ModelOpt.Engine.Checkpoints.Pickle;

/// <summary>What <c>torch._utils._rebuild_tensor_v2(storage, offset, size, stride, ...)</c> stands for, without the data.</summary>
internal sealed record PickledTensor(PickledStorage Storage, long Offset, long[] Shape, long[] Stride)
{
    public TensorSpec Spec => new(Shape, Storage.Dtype);
}
