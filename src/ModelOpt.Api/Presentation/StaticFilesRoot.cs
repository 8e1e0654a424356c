using Microsoft.Extensions.FileProviders;

namespace ModelOpt.Api.Presentation;

/// <summary>
/// Where the pages' stylesheet and scripts are found, however the API is started. ASP.NET Core looks for them in
/// <c>{content root}/wwwroot</c>, and the content root is the working directory: right for <c>dotnet run</c> (the project
/// folder) and the container (<c>/app</c>, the publish output), wrong for <c>dotnet ModelOpt.Api.dll</c> from the repository
/// root, as the quickstart and the README start it. A build's output has no wwwroot of its own: its
/// <c>ModelOpt.Api.staticwebassets.runtime.json</c> maps the files to the project's wwwroot, and ASP.NET Core reads that
/// manifest only in Development.
/// </summary>
public static class StaticFilesRoot
{
    public static WebApplicationBuilder ServeStaticFilesFromAnyDirectory(this WebApplicationBuilder builder)
    {
        // A publish output started from elsewhere: its wwwroot beside the dll.
        var beside = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if (builder.Environment.WebRootPath is not { } root || !Directory.Exists(root))
        {
            if (Directory.Exists(beside))
            {
                builder.Environment.WebRootPath = beside;
                builder.Environment.WebRootFileProvider = new PhysicalFileProvider(beside);
            }
        }
        // A build output (no wwwroot beside the dll): the build's manifest, in every environment. Development has read it
        // already; without a manifest (a publish output) this does nothing.
        if (!builder.Environment.IsDevelopment())
        {
            builder.WebHost.UseStaticWebAssets();
        }
        return builder;
    }
}
