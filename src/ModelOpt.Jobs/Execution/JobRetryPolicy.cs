using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Jobs.Execution;

/// <summary>
/// Which failures are worth another attempt: an input error never is (the same file fails the same way); any other
/// failure is retried by Hangfire until <see cref="MaxAttempts"/> runs have started since submission or the last manual retry.
/// </summary>
public static class JobRetryPolicy
{
    public const int MaxAttempts = 3;

    /// <summary>Hangfire's delays before the second and third attempt.</summary>
    public const int FirstRetryDelaySeconds = 2;
    public const int SecondRetryDelaySeconds = 10;

    public static bool IsInputError(Exception e) => e is PipelineInputException;

    public static bool MayRetry(Exception e, int attempts) => !IsInputError(e) && attempts < MaxAttempts;
}
