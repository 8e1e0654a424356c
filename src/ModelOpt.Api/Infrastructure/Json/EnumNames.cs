using System.Reflection;
using System.Text.Json.Serialization;

namespace ModelOpt.Api.Infrastructure.Json;

/// <summary>
/// How the API reads an enum from a request (JSON body or query): one defined name, any case; never a number. A member's
/// name on the wire is its C# name, or the one its <see cref="JsonStringEnumMemberNameAttribute"/> gives (the job settings'
/// lower-case <c>stratified</c>, <c>grayscale</c>, …).
/// </summary>
public static class EnumNames
{
    public static bool TryParse<TEnum>(string? text, out TEnum value) where TEnum : struct, Enum
    {
        value = default;
        var name = text?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            return false;
        }
        foreach (var (member, wire) in Names<TEnum>.ByMember)
        {
            if (string.Equals(wire, name, StringComparison.OrdinalIgnoreCase) || string.Equals(member.ToString(), name, StringComparison.OrdinalIgnoreCase))
            {
                value = member;
                return true;
            }
        }
        return false;
    }

    /// <summary>The member's name on the wire.</summary>
    public static string WireName<TEnum>(TEnum value) where TEnum : struct, Enum =>
        Names<TEnum>.ByMember.TryGetValue(value, out var name) ? name : value.ToString();

    /// <summary>The member's name on the wire, for code that holds an enum of unknown type (the pages' settings table).</summary>
    public static string WireName(Enum value) =>
        value.GetType().GetField(value.ToString())?.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()?.Name ?? value.ToString();

    /// <summary>"'x' is not one of: A, B, C." — the allowed names, for the request's <c>errors</c>.</summary>
    public static string Expected<TEnum>(string? text) where TEnum : struct, Enum =>
        $"{(text is null ? "The value" : $"'{text}'")} is not one of: {string.Join(", ", Names<TEnum>.ByMember.Values)}.";

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

    private static class Names<TEnum> where TEnum : struct, Enum
    {
        public static readonly IReadOnlyDictionary<TEnum, string> ByMember = Enum.GetValues<TEnum>().Distinct().ToDictionary(
            member => member,
            member => WireName((Enum)member));
    }
}
