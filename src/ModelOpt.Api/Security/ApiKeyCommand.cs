using ModelOpt.Jobs.Extensions;

namespace ModelOpt.Api.Security;

/// <summary>
/// <c>ModelOpt.Api keys create --scope read|write|worker|admin [--name NAME] [--team TEAM]</c>, <c>keys list</c>, <c>keys revoke ID</c>: key
/// management on the configured database without starting the server, so the first key of a deployment (where every
/// endpoint already needs one) can be made, with its team (<c>default</c> unless named; a new name creates the team).
/// <c>create</c> prints the key alone on its last line.
/// </summary>
public static class ApiKeyCommand
{
    public const string Verb = "keys";

    private const string Usage = """
        Usage: ModelOpt.Api keys create --scope read|write|worker|admin [--name NAME] [--team TEAM]
               ModelOpt.Api keys list
               ModelOpt.Api keys revoke KEY-ID
        A key acts for its team (default: "default"; a new name creates the team): it sees only that team's
        checkpoints, datasets and jobs; an admin key sees every team's.
        The database is the one the API uses (appsettings.json, ModelOpt__* environment variables).
        """;

    public static async Task<int> RunAsync(string[] args)
    {
        var builder = Host.CreateApplicationBuilder();
        builder.Configuration.AddModelOptSharedSettings();
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.AddModelOptCore();
        builder.Services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<ApiKeyStore>();
        using var host = builder.Build();
        await host.Services.MigrateModelOptDatabaseAsync();
        var keys = host.Services.GetRequiredService<ApiKeyStore>();

        switch (args)
        {
            case ["create", .. var options] when Option(options, "--scope") is { } scopeText:
                if (!Enum.TryParse<ApiKeyScope>(scopeText, ignoreCase: true, out var scope) || !Enum.IsDefined(scope))
                {
                    return Fail($"Unknown scope '{scopeText}': read, write or admin.");
                }
                var team = Option(options, "--team") ?? Team.DefaultName;
                if (Team.NameProblem(team) is { } teamProblem)
                {
                    return Fail(teamProblem);
                }
                var (row, key) = await keys.CreateAsync(Option(options, "--name") ?? $"{scope.ToString().ToLowerInvariant()} key", scope, team.Trim(), CancellationToken.None);
                Console.WriteLine($"Created {row.Scope} key {row.Id} ('{row.Name}') of team '{row.Team!.Name}'. It is shown this once; only its SHA-256 is stored:");
                Console.WriteLine(key);
                return 0;
            case ["list"]:
                foreach (var k in await keys.ListAsync(CancellationToken.None))
                {
                    Console.WriteLine($"{k.Id}  {k.Prefix}…  {k.Scope,-5}  {k.Team!.Name}  {k.CreatedAt:u}  {(k.RevokedAt is { } at ? $"revoked {at:u}" : "active")}  {k.Name}");
                }
                return 0;
            case ["revoke", var id] when Guid.TryParse(id, out var keyId):
                if (!await keys.RevokeAsync(keyId, CancellationToken.None))
                {
                    return Fail($"No API key {keyId}.");
                }
                Console.WriteLine($"Revoked {keyId}.");
                return 0;
            default:
                return Fail(Usage);
        }
    }

    private static string? Option(string[] args, string name)
    {
        var at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : null;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine(message);
        return 2;
    }
}
