using System.Collections;
using System.Globalization;
using System.Reflection;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Api.Infrastructure;

/// <summary>One configuration key as the documentation lists it.</summary>
public sealed record ConfigurationSetting(string Key, string Default, string Meaning, bool Essential);

/// <summary>
/// The configuration tables, generated from the option classes' <see cref="SettingAttribute"/>s and initial values, so a
/// default or a meaning is written once (a test checks the documents equal them).
/// </summary>
public static class ConfigurationReference
{
    /// <summary>Every setting of <paramref name="optionTypes"/> (each with a <c>Section</c> constant), in their order.</summary>
    public static IReadOnlyList<ConfigurationSetting> Settings(IEnumerable<Type> optionTypes) =>
        [.. optionTypes.SelectMany(Settings)];

    /// <summary>A Markdown table of the settings (the essential ones only when <paramref name="essentialOnly"/>).</summary>
    public static string Table(IEnumerable<ConfigurationSetting> settings, bool essentialOnly = false) =>
        string.Join('\n', new[] { "| key | default | |", "| --- | --- | --- |" }
            .Concat(settings.Where(s => !essentialOnly || s.Essential).Select(s => $"| `{s.Key}` | {s.Default} | {s.Meaning} |"))) + "\n";

    private static IEnumerable<ConfigurationSetting> Settings(Type type)
    {
        var section = type.GetField("Section", BindingFlags.Public | BindingFlags.Static)?.GetRawConstantValue() as string
            ?? throw new ArgumentException($"{type.Name} has no Section constant.", nameof(type));
        var defaults = Activator.CreateInstance(type)!;
        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<SettingAttribute>() is not { } setting)
            {
                continue;
            }
            var value = property.GetValue(defaults);
            var key = $"{section}:{property.Name}" + value switch
            {
                IDictionary => ":{name}",
                IList => ":{i}",
                _ => "",
            };
            yield return new ConfigurationSetting(key, setting.Default ?? Format(property.Name, value), setting.Meaning, setting.Essential);
        }
    }

    private static string Format(string name, object? value) => value switch
    {
        null => "—",
        IDictionary { Count: 0 } or IList { Count: 0 } => "none",
        bool b => b ? "`true`" : "`false`",
        string or Enum => $"`{value}`",
        TimeSpan t => t.TotalHours >= 1 && t.TotalHours % 1 == 0 ? $"{t.TotalHours:0} h" : $"{t.TotalSeconds.ToString(CultureInfo.InvariantCulture)} s",
        long or int when name.EndsWith("Bytes", StringComparison.Ordinal) => Bytes(Convert.ToInt64(value, CultureInfo.InvariantCulture)),
        long or int when name.EndsWith("Pixels", StringComparison.Ordinal) && Convert.ToInt64(value, CultureInfo.InvariantCulture) is var pixels
            && long.IsPow2(pixels) => $"2^{long.Log2(pixels)} ({pixels.ToString("N0", Grouping)})",
        long or int => Convert.ToInt64(value, CultureInfo.InvariantCulture).ToString("N0", Grouping),
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "—",
    };

    private static string Bytes(long bytes)
    {
        string[] units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
        var unit = 0;
        double size = bytes;
        while (size >= 1024 && size % 1024 == 0 && unit < units.Length - 1)
        {
            size /= 1024;
            unit++;
        }
        return $"{size.ToString(CultureInfo.InvariantCulture)} {units[unit]}";
    }

    // Thousands separated by a space, as the documents write 1 000 000.
    private static readonly NumberFormatInfo Grouping = new() { NumberGroupSeparator = " ", NumberDecimalDigits = 0 };
}
