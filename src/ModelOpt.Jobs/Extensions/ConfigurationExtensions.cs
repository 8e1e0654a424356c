using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;

namespace ModelOpt.Jobs.Extensions;

public static class ConfigurationExtensions
{
    /// <summary>The repository's root <c>appsettings.json</c>, copied next to each host's binaries under this name.</summary>
    public const string SharedSettingsFile = "modelopt.appsettings.json";

    /// <summary>
    /// Adds the shared settings file as the lowest-priority source, below the host's own appsettings, environment
    /// variables (<c>ModelOpt__Storage__Provider=Postgres</c>), command line and test overrides.
    /// </summary>
    public static IConfigurationManager AddModelOptSharedSettings(this IConfigurationManager configuration)
    {
        var source = new JsonConfigurationSource
        {
            Path = SharedSettingsFile,
            Optional = true,
            ReloadOnChange = false,
            FileProvider = new PhysicalFileProvider(AppContext.BaseDirectory),
        };
        configuration.Sources.Insert(0, source);
        return configuration;
    }
}
