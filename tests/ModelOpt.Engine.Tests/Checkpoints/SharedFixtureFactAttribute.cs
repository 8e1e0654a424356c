namespace ModelOpt.Engine.Tests.Checkpoints;

/// <summary>
/// A fact that needs a large fixture kept outside the repository in <c>../shared/fixtures</c>; it is
/// skipped, saying why, on clones that lack that folder (xunit 2 has no runtime skip).
/// </summary>
public sealed class SharedFixtureFactAttribute : FactAttribute
{
    public SharedFixtureFactAttribute(string fileName)
    {
        if (Fixtures.Shared(fileName) is null)
        {
            Skip = $"{fileName} is not in the repository (45 MB); it is read from a shared/fixtures folder beside the clone, and none was found above {AppContext.BaseDirectory}.";
        }
    }
}
