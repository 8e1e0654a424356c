using System.Diagnostics;
using System.Text.Json;
using JsonOptions = Microsoft.AspNetCore.Http.Json.JsonOptions;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Extensions.Options;

namespace ModelOpt.Api.Infrastructure;

/// <summary>
/// Problem details whatever the request's <c>Accept</c>: ASP.NET Core's own writer declines when the client asks only for
/// text/plain or application/octet-stream (what generated clients send for a report or a download), which left a 404 as an
/// empty 500. Registered after the default writer, so it answers only what that one declines, in the same JSON.
/// </summary>
public sealed class ProblemJsonFallbackWriter(IOptions<JsonOptions> json) : IProblemDetailsWriter
{
    public const string MediaType = "application/problem+json";

    public bool CanWrite(ProblemDetailsContext context) => true;

    public ValueTask WriteAsync(ProblemDetailsContext context)
    {
        var http = context.HttpContext;
        var problem = context.ProblemDetails;
        problem.Status ??= http.Response.StatusCode;
        if (!problem.Extensions.ContainsKey("traceId"))
        {
            problem.Extensions["traceId"] = Activity.Current?.Id ?? http.TraceIdentifier;
        }
        http.Response.ContentType = MediaType;
        var type = problem is HttpValidationProblemDetails ? typeof(HttpValidationProblemDetails) : typeof(ProblemDetails);
        return new ValueTask(http.Response.WriteAsync(JsonSerializer.Serialize(problem, type, json.Value.SerializerOptions), http.RequestAborted));
    }
}
