using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// <see cref="OutputFidelity"/> lists as the workspace files hold them: snake_case, with ±∞ written as the strings
/// "Infinity" / "-Infinity" (the SQNR of identical outputs), as the database's fidelity_json column does.
/// </summary>
public static class FidelityJson
{
    public static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public static string Serialize(IReadOnlyList<OutputFidelity> fidelity) => JsonSerializer.Serialize(fidelity, Options);

    public static IReadOnlyList<OutputFidelity> Deserialize(string json) =>
        JsonSerializer.Deserialize<List<OutputFidelity>>(json, Options) ?? throw new JsonException("The fidelity file is empty.");
}
