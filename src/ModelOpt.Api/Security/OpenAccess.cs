using System.Net;
using Microsoft.Extensions.Options;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Api.Security;

/// <summary>
/// The embedded default's zero configuration: on SQLite, before any key was created, requests from this machine need
/// no key. Anywhere else (PostgreSQL, another machine, or once a key exists) every endpoint but <c>/health</c> needs one.
/// </summary>
public sealed class OpenAccess(ApiKeyStore keys, IOptions<StorageOptions> storage)
{
    public async Task<bool> AllowsAsync(HttpContext context) =>
        storage.Value.Provider == StorageProvider.Sqlite && IsLocal(context) && !await keys.AnyExistAsync(context.RequestAborted);

    // The in-process test server has no remote address; Kestrel always sets one.
    private static bool IsLocal(HttpContext context) =>
        context.Connection.RemoteIpAddress is not { } address || IPAddress.IsLoopback(address);
}
