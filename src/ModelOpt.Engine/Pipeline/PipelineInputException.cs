namespace ModelOpt.Engine.Pipeline;

/// <summary>The job cannot run as asked (bad checkpoint, missing data, invalid options): the message is for the user, and retrying will not help.</summary>
public sealed class PipelineInputException(string message, Exception? innerException = null) : Exception(message, innerException);
