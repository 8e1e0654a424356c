using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Mvc;

namespace ModelOpt.Api.Infrastructure;

/// <summary>
/// What the framework refuses before a handler runs (a body that is not the request's JSON, a query value of the wrong
/// type, a missing parameter, a wrong media type) as problem details in the request's terms: an <c>errors</c> entry per
/// field (JSON paths as <c>training.epochs</c>), never a .NET type name.
/// </summary>
public static partial class BadRequestProblem
{
    private const string BadRequestType = "https://tools.ietf.org/html/rfc9110#section-15.5.1";

    public static ProblemDetails From(BadHttpRequestException exception) => exception switch
    {
        { StatusCode: StatusCodes.Status413PayloadTooLarge } => Plain(exception.StatusCode, "Payload too large.", exception.Message,
            "https://tools.ietf.org/html/rfc9110#section-15.5.14"),
        { StatusCode: StatusCodes.Status415UnsupportedMediaType } => Plain(exception.StatusCode, "Unsupported media type.",
            "Send the body as the operation's documented media type (application/json for JSON bodies).", "https://tools.ietf.org/html/rfc9110#section-15.5.16"),
        { InnerException: JsonException json } when MissingProperty().Match(json.Message) is { Success: true } m =>
            Invalid(m.Groups["name"].Value, "Required: the request's schema (GET /swagger/v1/swagger.json) marks it required."),
        { InnerException: JsonException json } => Invalid(FieldOf(json.Path), JsonMessage(json)),
        _ when BindFailure().Match(exception.Message) is { Success: true } m => Invalid(m.Groups["name"].Value, $"'{m.Groups["value"].Value}' is not a valid value."),
        _ when MissingParameter().Match(exception.Message) is { Success: true } m => Invalid(m.Groups["name"].Value, "Required."),
        _ => Plain(exception.StatusCode, "Bad request.", exception.Message, BadRequestType),
    };

    /// <summary>"$.training.epochz" → "training.epochz"; the whole body → "body".</summary>
    private static string FieldOf(string? path) =>
        path is null or "$" ? "body" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static string JsonMessage(JsonException json) => json switch
    {
        // Our enum converter's message lists the allowed names.
        { Message: var m } when m.Contains(" is not one of: ", StringComparison.Ordinal) => m,
        { Message: var m } when m.Contains("could not be mapped to any .NET member", StringComparison.Ordinal) =>
            "Unknown property: the request's schema (GET /swagger/v1/swagger.json) does not have it.",
        { Path: null or "$" } => "The body is not a JSON document of this request's schema.",
        _ => "Not a valid value for this field (see its type in the request's schema).",
    };

    private static HttpValidationProblemDetails Invalid(string field, string message) =>
        new(new Dictionary<string, string[]> { [field] = [message] })
        {
            Status = StatusCodes.Status400BadRequest,
            Title = "The request is invalid.",
            Type = BadRequestType,
        };

    private static ProblemDetails Plain(int status, string title, string detail, string type) =>
        new() { Status = status, Title = title, Detail = detail, Type = type };

    // The framework's words: Failed to bind parameter "int page" from "abc".
    [GeneratedRegex("""^Failed to bind parameter "[^" ]+ (?<name>[^" ]+)" from "(?<value>.*)"\.$""")]
    private static partial Regex BindFailure();

    // JSON deserialization for type '…' was missing required properties including: 'scope'.
    [GeneratedRegex("""missing required properties including: '(?<name>[^']+)'""")]
    private static partial Regex MissingProperty();

    // Required parameter "string ids" was not provided from query string.
    [GeneratedRegex("""^Required parameter "[^" ]+ (?<name>[^" ]+)" was not provided""")]
    private static partial Regex MissingParameter();
}
