using System.Text.Json;
using System.Text.Json.Serialization;

namespace ModelOpt.Api.Infrastructure.Json;

/// <summary>
/// Enums on the wire are their names, as the OpenAPI document says: written as names, read without regard to case, and
/// anything else (a number, an unknown name) refused with a message that lists the names, which the API answers as a 400.
/// </summary>
public sealed class NamedEnumConverterFactory : JsonConverterFactory
{
    public override bool CanConvert(Type typeToConvert) => typeToConvert.IsEnum;

    public override JsonConverter CreateConverter(Type typeToConvert, JsonSerializerOptions options) =>
        (JsonConverter)Activator.CreateInstance(typeof(NamedEnumConverter<>).MakeGenericType(typeToConvert))!;

    private sealed class NamedEnumConverter<TEnum> : JsonConverter<TEnum> where TEnum : struct, Enum
    {
        public override TEnum Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
        {
            var text = reader.TokenType == JsonTokenType.String ? reader.GetString() : null;
            return EnumNames.TryParse<TEnum>(text, out var value) ? value : throw new JsonException(EnumNames.Expected<TEnum>(text));
        }

        public override void Write(Utf8JsonWriter writer, TEnum value, JsonSerializerOptions options) => writer.WriteStringValue(EnumNames.WireName(value));
    }
}
