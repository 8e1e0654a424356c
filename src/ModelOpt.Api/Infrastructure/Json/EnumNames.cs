namespace ModelOpt.Api.Infrastructure.Json;

/// <summary>How the API reads an enum from a request (JSON body or query): one defined name, any case; never a number.</summary>
public static class EnumNames
{
    public static bool TryParse<TEnum>(string? text, out TEnum value) where TEnum : struct, Enum
    {
        value = default;
        var name = text?.Trim();
        return !string.IsNullOrEmpty(name) && !char.IsDigit(name[0]) && name[0] != '-'
            && Enum.TryParse(name, ignoreCase: true, out value) && Enum.IsDefined(value);
    }

    /// <summary>"'x' is not one of: A, B, C." — the allowed names, for the request's <c>errors</c>.</summary>
    public static string Expected<TEnum>(string? text) where TEnum : struct, Enum =>
        $"{(text is null ? "The value" : $"'{text}'")} is not one of: {string.Join(", ", Enum.GetNames<TEnum>())}.";

    /// <summary>The names in a query parameter, comma-separated or repeated; empty when it is absent.</summary>
    /// <exception cref="RequestValidationException">A name is not one of <typeparamref name="TEnum"/>'s; the message lists them.</exception>
    public static IReadOnlyList<TEnum> ParseList<TEnum>(string parameter, IEnumerable<string>? values) where TEnum : struct, Enum
    {
        var result = new List<TEnum>();
        foreach (var text in (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)))
        {
            result.Add(TryParse<TEnum>(text, out var value) ? value : throw new RequestValidationException(parameter, Expected<TEnum>(text)));
        }
        return result.Distinct().ToList();
    }
}
