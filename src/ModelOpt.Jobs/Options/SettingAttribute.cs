namespace ModelOpt.Jobs.Options;

/// <summary>
/// What a configuration key means: the one place the configuration tables of <c>docs/service.md</c> and the README are
/// generated from (the API's <c>ConfigurationReference</c>), with the default read from the property's initial value.
/// </summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class SettingAttribute(string meaning) : Attribute
{
    public string Meaning { get; } = meaning;

    /// <summary>The default in words, where the initial value does not show it (a value computed at run time).</summary>
    public string? Default { get; init; }

    /// <summary>Listed in the README's short table too.</summary>
    public bool Essential { get; init; }
}
