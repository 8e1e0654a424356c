namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>Endpoint metadata: a request header the handler reads, for the OpenAPI document (see <see cref="ResponsesOperationFilter"/>).</summary>
public sealed record RequestHeaderMetadata(string Name, string Description, bool Required);

/// <summary>Endpoint metadata: the handler reads its body as a raw stream of this media type (no model binding).</summary>
public sealed record RawBodyMetadata(string MediaType, string Description);
