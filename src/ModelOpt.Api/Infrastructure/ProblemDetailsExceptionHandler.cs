using System.Diagnostics;
using Microsoft.AspNetCore.Diagnostics;
using Microsoft.AspNetCore.Mvc;
using ModelOpt.Engine.Checkpoints;
using ModelOpt.Engine.Import.Onnx;
using ModelOpt.Jobs.Artifacts;

namespace ModelOpt.Api.Infrastructure;

/// <summary>
/// The one place where exceptions become RFC 7807 problem details. Endpoints throw; they never write error JSON.
/// </summary>
public sealed class ProblemDetailsExceptionHandler(IProblemDetailsService problemDetails, ILogger<ProblemDetailsExceptionHandler> logger)
    : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException && httpContext.RequestAborted.IsCancellationRequested)
        {
            return true; // The client went away; nobody reads an answer.
        }
        ProblemDetails? problem = exception switch
        {
            RequestValidationException e => new HttpValidationProblemDetails(e.Errors)
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The request is invalid.",
                Type = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            },
            NotFoundException e => Problem(StatusCodes.Status404NotFound, "Not found.", e.Message, "https://tools.ietf.org/html/rfc9110#section-15.5.5"),
            ConflictException e => Problem(StatusCodes.Status409Conflict, "Conflict.", e.Message, "https://tools.ietf.org/html/rfc9110#section-15.5.10"),
            PayloadTooLargeException e => Problem(StatusCodes.Status413PayloadTooLarge, "Payload too large.", e.Message,
                "https://tools.ietf.org/html/rfc9110#section-15.5.14"),
            CheckpointMismatchException e => Problem(StatusCodes.Status422UnprocessableEntity,
                "The checkpoint does not match the model.", e.Message, "https://tools.ietf.org/html/rfc9110#section-15.5.21"),
            UnsupportedOnnxModelException e => UnsupportedOnnx(e),
            IdempotencyKeyMismatchException e => Problem(StatusCodes.Status422UnprocessableEntity,
                "The Idempotency-Key was used with another request.", e.Message, "https://tools.ietf.org/html/rfc9110#section-15.5.21"),
            UnsupportedMediaTypeException e => Problem(StatusCodes.Status415UnsupportedMediaType, "Unsupported media type.", e.Message,
                "https://tools.ietf.org/html/rfc9110#section-15.5.16"),
            DigestMismatchException e => Problem(StatusCodes.Status422UnprocessableEntity,
                "The upload does not match its Content-Digest.", e.Message, "https://tools.ietf.org/html/rfc9110#section-15.5.21"),
            CheckpointFormatException or OnnxFormatException => new HttpValidationProblemDetails(new Dictionary<string, string[]> { ["file"] = [exception.Message] })
            {
                Status = StatusCodes.Status400BadRequest,
                Title = "The file is not a usable checkpoint.",
                Detail = exception.Message,
                Type = "https://tools.ietf.org/html/rfc9110#section-15.5.1",
            },
            BadHttpRequestException e => BadRequestProblem.From(e),
            IOException e when DiskSpace.IsFull(e) => Problem(StatusCodes.Status507InsufficientStorage, "Insufficient storage.",
                "The server's disk is full; nothing was stored. Try again once space has been freed.", "https://tools.ietf.org/html/rfc4918#section-11.5"),
            _ when RejectedValue(exception) is { } rejected => Problem(StatusCodes.Status400BadRequest, "The request is invalid.",
                $"A value in the request cannot be stored ({rejected}); nothing was changed.", "https://tools.ietf.org/html/rfc9110#section-15.5.1"),
            _ => null,
        };
        if (problem is null && IsDatabaseUnavailable(exception))
        {
            logger.LogError(exception, "Database unavailable on {Method} {Path} (request {RequestId})",
                httpContext.Request.Method, httpContext.Request.Path, RequestId(httpContext));
            httpContext.Response.Headers.RetryAfter = "5";
            problem = Problem(StatusCodes.Status503ServiceUnavailable, "The service is temporarily unavailable.",
                "The database cannot be reached; nothing was changed. Try again shortly.", "https://tools.ietf.org/html/rfc9110#section-15.6.4");
        }
        LogUserError(exception, httpContext);
        if (problem is null)
        {
            logger.LogError(exception, "Unhandled exception on {Method} {Path} (request {RequestId})",
                httpContext.Request.Method, httpContext.Request.Path, RequestId(httpContext));
            problem = Problem(StatusCodes.Status500InternalServerError, "An unexpected error occurred.", null,
                "https://tools.ietf.org/html/rfc9110#section-15.6.1");
        }
        httpContext.Response.StatusCode = problem.Status!.Value;
        return await problemDetails.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            ProblemDetails = problem,
            Exception = exception,
        });
    }

    // What the user is told is short; the log keeps the whole of it, under the request id the response carries.
    private void LogUserError(Exception exception, HttpContext httpContext)
    {
        switch (exception)
        {
            case CheckpointMismatchException e:
                logger.LogInformation("Checkpoint refused (request {RequestId}): {FullReport}", RequestId(httpContext), e.FullReport);
                break;
            case CheckpointFormatException or OnnxFormatException:
                logger.LogInformation(exception.InnerException, "Checkpoint refused (request {RequestId}): {Reason}", RequestId(httpContext), exception.Message);
                break;
        }
    }

    // The id the problem-details body carries as traceId, so a user's report finds the log line.
    private static string RequestId(HttpContext httpContext) => Activity.Current?.Id ?? httpContext.TraceIdentifier;

    // A value the database refuses (SQLSTATE class 22, "data exception": a NUL character in text, a number out of range,
    // a negative OFFSET) came from the request, not from an outage: validation should have caught it first.
    private static string? RejectedValue(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is Npgsql.PostgresException { SqlState: var state } && state.StartsWith("22", StringComparison.Ordinal))
            {
                return state switch
                {
                    "22021" => "text holds a NUL character or an invalid byte sequence",
                    "22001" => "a text value is too long",
                    "22003" => "a number is out of range",
                    _ => "a value is out of range or malformed",
                };
            }
        }
        return null;
    }

    // EF wraps provider errors (a refused connection, a timeout) in its own exceptions: look down the chain.
    private static bool IsDatabaseUnavailable(Exception exception)
    {
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is System.Data.Common.DbException or System.Net.Sockets.SocketException or TimeoutException)
            {
                return true;
            }
        }
        return false;
    }

    /// <summary>422 naming every op type and node the importer could not map, so the user knows what to change in the export.</summary>
    private static ProblemDetails UnsupportedOnnx(UnsupportedOnnxModelException e)
    {
        // A graph whose every op maps can still be refused for its inputs (two of them, or token ids instead of an image).
        var title = e.OpTypes.Count > 0 ? "The ONNX model uses ops ModelOpt cannot map." : "The ONNX model's graph is not one ModelOpt can import.";
        var problem = Problem(StatusCodes.Status422UnprocessableEntity, title, e.Message,
            "https://tools.ietf.org/html/rfc9110#section-15.5.21");
        problem.Extensions["unsupportedOpTypes"] = e.OpTypes;
        problem.Extensions["unsupportedNodes"] = e.Nodes.Select(n => new { opType = n.OpType, nodeName = n.NodeName, reason = n.Reason }).ToList();
        return problem;
    }

    private static ProblemDetails Problem(int status, string title, string? detail, string type) =>
        new() { Status = status, Title = title, Detail = detail, Type = type };
}
