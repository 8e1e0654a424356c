using ModelOpt.Api.Security;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Api.Infrastructure;

/// <summary>The service's option classes, in the order the configuration tables list them (docs/service.md, the README).</summary>
public static class ServiceSettings
{
    public static IReadOnlyList<Type> OptionTypes { get; } =
    [
        typeof(StorageOptions), typeof(ConnectionStringsOptions), typeof(WorkerOptions), typeof(WorkerRegistryOptions), typeof(JobsOptions),
        typeof(DispatchOptions), typeof(UploadOptions), typeof(DatasetOptions), typeof(DatasetUploadOptions), typeof(AuthOptions), typeof(RateLimitOptions),
    ];

    public static IReadOnlyList<ConfigurationSetting> All => ConfigurationReference.Settings(OptionTypes);
}
