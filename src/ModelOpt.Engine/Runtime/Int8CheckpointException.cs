namespace ModelOpt.Engine.Runtime;

/// <summary>An int8 checkpoint (TorchScript archive or int8 safetensors) that is damaged, incomplete or not one at all.</summary>
public sealed class Int8CheckpointException : Exception
{
    public Int8CheckpointException(string message)
        : base(message)
    {
    }

    public Int8CheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
