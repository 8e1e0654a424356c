namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>Where the repository's other builds are, found from the test binaries.</summary>
public static class RepositoryPaths
{
    /// <summary>The checkout's root: the folder above the test binaries that holds ModelOpt.sln.</summary>
    public static string Root { get; } = FindRoot();

    private static string FindRoot()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ModelOpt.sln")))
        {
            root = root.Parent;
        }
        return root?.FullName ?? throw new DirectoryNotFoundException("The tests run outside a ModelOpt checkout.");
    }

    /// <summary>A host project's dll in the same configuration as the tests (e.g. <c>src/ModelOpt.Worker/bin/Release/net10.0/linux-x64/ModelOpt.Worker.dll</c>).</summary>
    public static string HostDll(string project)
    {
        var testBin = AppContext.BaseDirectory;
        var relative = Path.GetRelativePath(Path.Combine(Root, "tests", "ModelOpt.Service.Tests"), testBin);
        var dll = Path.Combine(Root, "src", project, relative, $"{project}.dll");
        return File.Exists(dll) ? dll : throw new FileNotFoundException($"Build {project} first.", dll);
    }
}
