using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace ModelOpt.Api.Infrastructure;

/// <summary>Data-annotation validation of a request and its nested settings, with camelCase field paths (<c>training.epochs</c>).</summary>
public static class RequestValidator
{
    public static Dictionary<string, string[]> Validate(object request)
    {
        var errors = new Dictionary<string, List<string>>();
        Walk(request, "", errors);
        return errors.ToDictionary(e => e.Key, e => e.Value.ToArray());
    }

    /// <summary>
    /// Rewrites a string setting that names one of its [AllowedValues] in another case ("Histogram", as generated clients
    /// send enum members) to that value's own spelling, so choices are matched without regard to case, like the enums.
    /// </summary>
    public static void NormalizeChoices(object request)
    {
        foreach (var property in request.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.PropertyType == typeof(string) && property.CanWrite && property.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed
                && property.GetValue(request) is string text
                && allowed.Values.OfType<string>().FirstOrDefault(v => string.Equals(v, text.Trim(), StringComparison.OrdinalIgnoreCase)) is { } canonical)
            {
                property.SetValue(request, canonical);
            }
            else if (IsSettings(property.PropertyType) && property.GetValue(request) is { } child)
            {
                NormalizeChoices(child);
            }
        }
    }

    /// <summary>A nested settings section: the engine's options records (<c>training</c>, <c>quantization</c>, …), never a list or a string.</summary>
    private static bool IsSettings(Type type) =>
        type.IsClass && type != typeof(string) && type.Namespace?.StartsWith("ModelOpt.", StringComparison.Ordinal) == true;

    private static void Walk(object value, string prefix, Dictionary<string, List<string>> errors)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(value, new ValidationContext(value), results, validateAllProperties: true);
        foreach (var result in results)
        {
            foreach (var member in result.MemberNames.DefaultIfEmpty(""))
            {
                var key = prefix + JsonNamingPolicy.CamelCase.ConvertName(member);
                // DataAnnotations name the C# property ("The field TestSubset must be ..."); the client knows the JSON field.
                var message = member.Length == 0 || result.ErrorMessage is null
                    ? result.ErrorMessage ?? "Invalid value."
                    : Regex.Replace(result.ErrorMessage, $@"\b{Regex.Escape(member)}\b", key);
                (errors.TryGetValue(key, out var list) ? list : errors[key] = []).Add(message);
            }
        }
        foreach (var property in value.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (IsSettings(property.PropertyType) && property.GetValue(value) is { } child)
            {
                Walk(child, prefix + JsonNamingPolicy.CamelCase.ConvertName(property.Name) + ".", errors);
            }
        }
    }
}
