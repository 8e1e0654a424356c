namespace ModelOpt.ServiceBench;

/// <summary>The folder holding ModelOpt.sln, found upwards from the working directory and then from the bench's binaries.</summary>
public static class RepositoryRoot
{
    public static string Find()
    {
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                if (File.Exists(Path.Combine(dir.FullName, "ModelOpt.sln")))
                {
                    return dir.FullName;
                }
            }
        }
        throw new FileNotFoundException("ModelOpt.sln not found above the working directory; pass --api-dll.");
    }
}
