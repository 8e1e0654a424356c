using System.Text.Json.Nodes;

namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>One named request example of POST /api/jobs.</summary>
public sealed record JobRequestExample(string Key, string Summary, string Description, JsonObject Value);
