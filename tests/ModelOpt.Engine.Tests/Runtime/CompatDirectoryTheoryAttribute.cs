namespace ModelOpt.Engine.Tests.Runtime;

/// <summary>
/// A theory that writes files for <c>scripts/check_torchscript_compat.py</c> into the folder named by
/// <see cref="Variable"/>; without that variable it is reported as skipped, saying how to run it.
/// </summary>
public sealed class CompatDirectoryTheoryAttribute : TheoryAttribute
{
    public const string Variable = "MODELOPT_COMPAT_DIR";

    public CompatDirectoryTheoryAttribute()
    {
        if (string.IsNullOrEmpty(Environment.GetEnvironmentVariable(Variable)))
        {
            Skip = $"writes the inputs of scripts/check_torchscript_compat.py only when {Variable} names a folder; "
                + "PyTorch's logits on a committed archive are checked by PyTorchRunsModelOptArchiveTests";
        }
    }
}
