namespace ModelOpt.Engine.Tests.Data;

/// <summary>A fresh folder under the system temp directory, deleted with everything in it on dispose.</summary>
public sealed class TemporaryFolder : IDisposable
{
    public string Path { get; } = Directory.CreateTempSubdirectory("modelopt-tests-").FullName;

    public void Dispose() => Directory.Delete(Path, recursive: true);
}
