using System.Collections;
using System.ComponentModel;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;
using ModelOpt.Api.Infrastructure.Json;
using ModelOpt.Engine.Data;

namespace ModelOpt.Api.Presentation;

/// <summary>One setting as the pages show it: its JSON name, the value given or resolved, and whether it was left unset.</summary>
public sealed record ShownSetting(string Key, string Value, bool Unset = false);

/// <summary>One section of a job's settings (<c>training</c>, <c>quantization</c>, …) under its JSON name.</summary>
public sealed record ShownSettingsSection(string Section, IReadOnlyList<ShownSetting> Values);

/// <summary>
/// A job's settings as the user gave them, in the API's JSON names: only the sections that applied to the job (training
/// only for a job that trained, the split only for an uploaded dataset), booleans as yes / no, and an unset value as "—"
/// with what unset means, read from the setting's own description (the one the OpenAPI document shows).
/// </summary>
public static partial class JobSettingsView
{
    public static IReadOnlyList<ShownSettingsSection> Of(JobDto job)
    {
        var sections = new List<ShownSettingsSection>();
        foreach (var section in typeof(JobSpec).GetProperties())
        {
            if (!Applies(job, section.Name))
            {
                continue;
            }
            var settings = section.GetValue(job.Spec)!;
            // What the engine derives from the settings ([JsonIgnore]) is not a setting the user gave.
            var values = section.PropertyType.GetProperties(BindingFlags.Public | BindingFlags.Instance)
                .Where(p => p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
                .Select(p => Shown(JsonNamingPolicy.CamelCase.ConvertName(p.Name), p.GetValue(settings), p))
                .ToList();
            sections.Add(new ShownSettingsSection(JsonNamingPolicy.CamelCase.ConvertName(section.Name), values));
        }
        return sections;
    }

    private static bool Applies(JobDto job, string section) => section switch
    {
        nameof(JobSpec.Training) => job.TrainFirst,
        // Only an uploaded dataset can be one set that the job splits; a built-in one comes split.
        nameof(JobSpec.Split) => !DatasetCatalog.All.Any(d => d.Name == job.Dataset),
        _ => true,
    };

    private static ShownSetting Shown(string key, object? value, PropertyInfo property) => value switch
    {
        null => new ShownSetting(key, UnsetMeaning(property) is { } meaning ? $"— ({meaning})" : "—", Unset: true),
        bool b => new ShownSetting(key, b ? "yes" : "no"),
        string s => new ShownSetting(key, s),
        Enum e => new ShownSetting(key, EnumNames.WireName(e)),
        IFormattable f => new ShownSetting(key, f.ToString(null, CultureInfo.InvariantCulture)),
        IEnumerable list => list.Cast<object>().Select(o => Convert.ToString(o, CultureInfo.InvariantCulture)).ToList() is { Count: > 0 } items
            ? new ShownSetting(key, string.Join(", ", items))
            : new ShownSetting(key, "none"),
        _ => new ShownSetting(key, value.ToString() ?? ""),
    };

    /// <summary>What null means for the setting, from its description ("… Null: no crop.", "…; null uses all of them.").</summary>
    private static string? UnsetMeaning(PropertyInfo property) =>
        property.GetCustomAttribute<DescriptionAttribute>()?.Description is { } text && NullClause().Match(text) is { Success: true } match
            ? match.Groups[1].Value.Trim()
            : null;

    [GeneratedRegex(@"\b[Nn]ull:?\s+([^.;]+)")]
    private static partial Regex NullClause();
}
