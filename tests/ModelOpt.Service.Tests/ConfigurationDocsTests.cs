using System.Reflection;
using Microsoft.Extensions.Configuration;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Jobs.Options;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The configuration tables of docs/service.md and the README are generated from the option classes (their
/// <see cref="SettingAttribute"/>s and initial values); <c>MODELOPT_UPDATE_DOCS=1</c> rewrites them.
/// </summary>
public sealed class ConfigurationDocsTests
{
    private const string Begin = "<!-- configuration table: generated from the option classes by ConfigurationDocsTests -->";
    private const string End = "<!-- end of configuration table -->";

    [Theory]
    [InlineData("docs/service.md", false)]
    [InlineData("README.md", true)]
    public void The_documented_table_is_the_option_classes(string document, bool essentialOnly)
    {
        var path = Path.Combine(RepositoryPaths.Root, document);
        var text = File.ReadAllText(path);
        var (start, end) = (text.IndexOf(Begin, StringComparison.Ordinal), text.IndexOf(End, StringComparison.Ordinal));
        Assert.True(start >= 0 && end > start, $"{document} has no generated configuration table between its markers.");
        var expected = text[..(start + Begin.Length)] + "\n" + ConfigurationReference.Table(ServiceSettings.All, essentialOnly) + text[end..];
        if (Environment.GetEnvironmentVariable("MODELOPT_UPDATE_DOCS") == "1")
        {
            File.WriteAllText(path, expected);
        }

        Assert.Equal(expected, File.ReadAllText(path));
    }

    [Fact]
    public void Every_option_class_is_listed_and_every_setting_has_a_meaning()
    {
        var optionTypes = new[] { typeof(StorageOptions).Assembly, typeof(ServiceSettings).Assembly }
            .SelectMany(a => a.GetTypes())
            .Where(t => t.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                && ((string)field.GetRawConstantValue()!).StartsWith("ModelOpt:", StringComparison.Ordinal));
        Assert.Equal(optionTypes.OrderBy(t => t.Name), ServiceSettings.OptionTypes.OrderBy(t => t.Name));
        var unexplained = ServiceSettings.OptionTypes
            .SelectMany(t => t.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).Select(p => $"{t.Name}.{p.Name}"))
            .Except(ServiceSettings.All.Select(s => Property(s.Key)));
        Assert.Empty(unexplained);
    }

    [Fact]
    public void Appsettings_json_restates_only_the_defaults()
    {
        var configuration = new ConfigurationBuilder().AddJsonFile(Path.Combine(RepositoryPaths.Root, "appsettings.json")).Build();
        foreach (var type in ServiceSettings.OptionTypes)
        {
            var section = (string)type.GetField("Section")!.GetRawConstantValue()!;
            var defaults = Activator.CreateInstance(type)!;
            var bound = configuration.GetSection(section).Get(type) ?? Activator.CreateInstance(type)!;
            foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.GetCustomAttribute<SettingAttribute>() is not null))
            {
                var (given, initial) = (property.GetValue(bound), property.GetValue(defaults));
                var same = given is System.Collections.IEnumerable list and not string
                    ? list.Cast<object>().SequenceEqual(((System.Collections.IEnumerable)initial!).Cast<object>())
                    : Equals(given, initial);
                Assert.True(same, $"appsettings.json sets {section}:{property.Name} to {given}, but its default is {initial}: change the default in {type.Name}, not there.");
            }
        }
    }

    private static string Property(string key)
    {
        var parts = key.Split(':');
        var section = string.Join(':', parts.Take(2));
        var type = ServiceSettings.OptionTypes.Single(t => (string)t.GetField("Section")!.GetRawConstantValue()! == section);
        return $"{type.Name}.{parts[2]}";
    }
}
