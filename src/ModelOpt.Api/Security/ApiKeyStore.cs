using System.Buffers.Text;
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using ModelOpt.Jobs.Infrastructure;

namespace ModelOpt.Api.Security;

/// <summary>
/// Creates, finds and revokes API keys. A key is "mo_" and 43 base64url characters (32 random bytes); the database
/// holds its SHA-256 only. Lookups are cached for <see cref="AuthOptions.CacheDuration"/> so a request costs no query.
/// </summary>
public sealed class ApiKeyStore(IServiceScopeFactory scopes, IOptions<AuthOptions> options, TimeProvider time)
{
    private const string KeyPrefix = "mo_";

    private readonly ConcurrentDictionary<string, (ApiKey Key, DateTime Until)> byHash = new();
    // Set once a key is known to exist; keys are never deleted, so that answer is final.
    private volatile bool anyKeys;

    public static string HashOf(string key) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

    /// <summary>Creates a key of the default team; the returned plain key is never stored and cannot be shown again.</summary>
    public Task<(ApiKey Row, string Key)> CreateAsync(string name, ApiKeyScope scope, CancellationToken cancellationToken) =>
        CreateAsync(name, scope, Team.DefaultName, cancellationToken);

    /// <summary>Creates a key of the team named <paramref name="team"/>, creating that team when it is new.</summary>
    public async Task<(ApiKey Row, string Key)> CreateAsync(string name, ApiKeyScope scope, string team, CancellationToken cancellationToken)
    {
        var key = KeyPrefix + Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(32));
        var row = new ApiKey
        {
            Id = Guid.CreateVersion7(),
            Name = name,
            Prefix = key[..8],
            Hash = HashOf(key),
            Scope = scope,
            CreatedAt = time.GetUtcNow().UtcDateTime,
        };
        await using var keyScope = scopes.CreateAsyncScope();
        var db = keyScope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        row.Team = await FindOrCreateTeamAsync(db, team, row.CreatedAt, cancellationToken);
        row.TeamId = row.Team.Id;
        db.ApiKeys.Add(row);
        await db.SaveChangesAsync(cancellationToken);
        anyKeys = true;
        byHash[row.Hash] = (row, row.CreatedAt + options.Value.CacheDuration);
        return (row, key);
    }

    /// <summary>The team of that name; a new name makes a new team (a concurrent request making it too is answered with its row).</summary>
    private static async Task<Team> FindOrCreateTeamAsync(ModelOptDbContext db, string name, DateTime now, CancellationToken cancellationToken)
    {
        if (await db.Teams.SingleOrDefaultAsync(t => t.Name == name, cancellationToken) is { } existing)
        {
            return existing;
        }
        var team = db.Teams.Add(new Team { Id = Guid.CreateVersion7(), Name = name, CreatedAt = now }).Entity;
        try
        {
            await db.SaveChangesAsync(cancellationToken);
            return team;
        }
        catch (DbUpdateException)
        {
            db.ChangeTracker.Clear();
            return await db.Teams.SingleOrDefaultAsync(t => t.Name == name, cancellationToken) ?? throw new InvalidOperationException($"Team '{name}' could not be created.");
        }
    }

    /// <summary>The name of the team with that id.</summary>
    public async Task<string> TeamNameAsync(Guid teamId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().Teams.Where(t => t.Id == teamId).Select(t => t.Name)
            .SingleAsync(cancellationToken);
    }

    private long databaseLookups;

    /// <summary>How many key look-ups reached the database (cache misses): what an unknown key costs.</summary>
    internal long DatabaseLookups => Interlocked.Read(ref databaseLookups);

    /// <summary>The id of a key this API has recently found active (no database look-up); null for any other string.</summary>
    public Guid? CachedKeyId(string key) =>
        byHash.TryGetValue(HashOf(key), out var cached) && cached.Until > time.GetUtcNow().UtcDateTime ? cached.Key.Id : null;

    /// <summary>The key's row if it exists and is not revoked.</summary>
    public async Task<ApiKey?> FindActiveAsync(string key, CancellationToken cancellationToken)
    {
        var hash = HashOf(key);
        var now = time.GetUtcNow().UtcDateTime;
        if (byHash.TryGetValue(hash, out var cached) && cached.Until > now)
        {
            return cached.Key;
        }
        Interlocked.Increment(ref databaseLookups);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        var row = await db.ApiKeys.AsNoTracking().SingleOrDefaultAsync(k => k.Hash == hash && k.RevokedAt == null, cancellationToken);
        if (row is not null)
        {
            // Only real keys are cached: random guesses must not grow the cache.
            byHash[hash] = (row, now + options.Value.CacheDuration);
        }
        return row;
    }

    /// <summary>
    /// Whether any key was ever created (revoked ones count: revoking the last key does not open the API). "None" is
    /// never cached: a key created by the CLI in another process closes the open access at the next request.
    /// </summary>
    public async Task<bool> AnyExistAsync(CancellationToken cancellationToken)
    {
        if (anyKeys)
        {
            return true;
        }
        await using var scope = scopes.CreateAsyncScope();
        return anyKeys = await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().ApiKeys.AnyAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<ApiKey>> ListAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<ModelOptDbContext>().ApiKeys.AsNoTracking().Include(k => k.Team)
            .OrderBy(k => k.CreatedAt).ToListAsync(cancellationToken);
    }

    /// <summary>Revokes the key (idempotent); false when no such key exists.</summary>
    public async Task<bool> RevokeAsync(Guid id, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        var now = time.GetUtcNow().UtcDateTime;
        var found = await db.ApiKeys.Where(k => k.Id == id).ExecuteUpdateAsync(s => s.SetProperty(k => k.RevokedAt, k => k.RevokedAt ?? now), cancellationToken);
        byHash.Clear();
        return found == 1;
    }
}
