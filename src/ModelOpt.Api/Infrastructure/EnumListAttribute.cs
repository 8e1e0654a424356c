namespace ModelOpt.Api.Infrastructure;

/// <summary>
/// A query parameter that takes several names of <see cref="EnumType"/>, comma-separated or repeated
/// (<c>status=Succeeded,Failed</c>); the OpenAPI document shows it as an array of that enum (form style, not exploded).
/// </summary>
[AttributeUsage(AttributeTargets.Parameter)]
public sealed class EnumListAttribute(Type enumType) : Attribute
{
    public Type EnumType { get; } = enumType;
}
