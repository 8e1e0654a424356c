namespace ModelOpt.Api.Infrastructure.OpenApi;

/// <summary>Endpoint metadata: the handler honours an <see cref="IdempotencyKey.Header"/> request header (see <see cref="IdempotencyKeyOperationFilter"/>).</summary>
public sealed record IdempotencyKeyMetadata;
