using System.Reflection;
using Microsoft.AspNetCore.Mvc;

namespace ModelOpt.Api.Infrastructure;

/// <summary>
/// Refuses a query parameter the operation does not take (400 naming it and those it takes), so a misspelt filter
/// (<c>?stauts=Failed</c>) is an error rather than an unfiltered answer. The parameters an operation takes are read once
/// from its handler's signature: the simple-typed ones and those marked [FromQuery].
/// </summary>
public static class UnknownQueryParameters
{
    public static TBuilder RefuseUnknownQueryParameters<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder =>
        builder.AddEndpointFilterFactory((factory, next) =>
        {
            var known = QueryNames(factory.MethodInfo.GetParameters()).ToHashSet(StringComparer.OrdinalIgnoreCase);
            var listed = known.Count == 0 ? "none" : string.Join(", ", known.Order(StringComparer.Ordinal));
            return invocation =>
            {
                var unknown = invocation.HttpContext.Request.Query.Keys.Where(k => !known.Contains(k)).ToList();
                if (unknown.Count > 0)
                {
                    throw new RequestValidationException(unknown.ToDictionary(k => k,
                        k => new[] { $"Unknown query parameter '{k}'; this operation takes: {listed}." }));
                }
                return next(invocation);
            };
        });

    private static IEnumerable<string> QueryNames(IEnumerable<ParameterInfo> parameters)
    {
        foreach (var parameter in parameters)
        {
            if (parameter.GetCustomAttribute<AsParametersAttribute>() is not null)
            {
                var constructor = parameter.ParameterType.GetConstructors().OrderByDescending(c => c.GetParameters().Length).First();
                foreach (var name in QueryNames(constructor.GetParameters()))
                {
                    yield return name;
                }
            }
            else if (parameter.GetCustomAttribute<FromQueryAttribute>() is { } fromQuery)
            {
                yield return fromQuery.Name ?? parameter.Name!;
            }
            else if (parameter.GetCustomAttribute<FromRouteAttribute>() is null && IsSimple(parameter.ParameterType))
            {
                yield return parameter.Name!;
            }
        }
    }

    private static bool IsSimple(Type type)
    {
        type = Nullable.GetUnderlyingType(type) ?? (type.IsArray ? type.GetElementType()! : type);
        return type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(Guid) || type == typeof(decimal)
               || type == typeof(DateTime) || type == typeof(DateTimeOffset) || type == typeof(TimeSpan);
    }
}
