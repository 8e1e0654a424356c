namespace ModelOpt.Api.Infrastructure;

/// <summary>A resource that does not exist (404).</summary>
public sealed class NotFoundException(string message) : Exception(message);

/// <summary>A request that conflicts with the resource's state (409).</summary>
public sealed class ConflictException(string message) : Exception(message);

/// <summary>An upload whose body hashes otherwise than its Content-Digest says (422): it was damaged on the way.</summary>
public sealed class DigestMismatchException(string message) : Exception(message);

/// <summary>An Idempotency-Key sent again with another request (422, as the IETF Idempotency-Key draft says).</summary>
public sealed class IdempotencyKeyMismatchException(string message) : Exception(message);

/// <summary>A body of another media type than the operation reads (415).</summary>
public sealed class UnsupportedMediaTypeException(string message) : Exception(message);

/// <summary>Field errors of a request (400 with <c>errors</c>).</summary>
public sealed class RequestValidationException(IDictionary<string, string[]> errors)
    : Exception("One or more validation errors occurred.")
{
    public IDictionary<string, string[]> Errors { get; } = errors;

    public RequestValidationException(string field, string message) : this(new Dictionary<string, string[]> { [field] = [message] })
    {
    }
}
