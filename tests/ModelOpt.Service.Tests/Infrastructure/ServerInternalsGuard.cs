using System.Net.Http.Headers;

namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>
/// Fails the request of any test whose JSON answer (a problem-details body, a job's error) gives away the server: its
/// data root's path or a native stack trace ("frame #"). Every client of <see cref="ServiceFactory"/> goes through it,
/// so every hostile and failing case of the suite is checked, not a chosen few.
/// </summary>
public sealed class ServerInternalsGuard(string dataRoot) : DelegatingHandler
{
    private static readonly string[] Leaks = ["frame #", "IObjectConstructor", "   at "];

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        if (response.Content.Headers.ContentType is { MediaType: { } type } && type.EndsWith("json", StringComparison.Ordinal))
        {
            await response.Content.LoadIntoBufferAsync(cancellationToken);
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            var leak = Leaks.Append(dataRoot).FirstOrDefault(l => body.Contains(l, StringComparison.Ordinal));
            if (leak is not null)
            {
                throw new InvalidOperationException($"{request.Method} {request.RequestUri} answered {(int)response.StatusCode} with '{leak}' in its body: {body}");
            }
        }
        return response;
    }
}
