using Mono.Cecil;
using Mono.Cecil.Cil;

namespace ModelOpt.Service.Tests;

/// <summary>
/// Where the API's code lives (ADR-026), read from the compiled IL with Mono.Cecil: the pages call the use cases in
/// <c>ModelOpt.Api.Application</c>, never an endpoint class, and <c>ModelOpt.Jobs</c> holds no public type that only the API uses.
/// </summary>
public sealed class ArchitectureTests
{
    private const string EndpointsNamespace = "ModelOpt.Api.Endpoints";

    [Fact]
    public void Pages_and_their_views_call_the_use_cases_not_an_endpoint_class()
    {
        using var api = ModuleDefinition.ReadModule(typeof(Program).Assembly.Location);

        // Page models, their async state machines and lambdas (nested types), and the compiled .cshtml views (Pages_Jobs_Details, …).
        var pages = api.GetTypes().Where(t => Outermost(t).Namespace.StartsWith("ModelOpt.Api.Pages", StringComparison.Ordinal)
                                              || Outermost(t).Name.StartsWith("Pages_", StringComparison.Ordinal)).ToList();
        var offending = pages
            .SelectMany(page => ReferencedTypes(page).Where(r => Outermost(r).Namespace == EndpointsNamespace).Select(r => $"{page.FullName} -> {r.FullName}"))
            .Distinct().Order(StringComparer.Ordinal).ToList();

        Assert.Contains(pages, t => t.FullName == typeof(Api.Pages.Jobs.DetailsModel).FullName);
        Assert.Contains(pages, t => t.Name == "Pages_Jobs_Details");
        Assert.True(offending.Count == 0, "Pages reference endpoint classes; call a use case in ModelOpt.Api.Application instead:\n" + string.Join("\n", offending));
    }

    [Fact]
    public void Jobs_defines_no_public_type_that_only_the_api_uses()
    {
        using var jobs = ModuleDefinition.ReadModule(typeof(OptimizationJob).Assembly.Location);
        using var worker = ModuleDefinition.ReadModule(RepositoryPaths.HostDll("ModelOpt.Worker"));
        using var api = ModuleDefinition.ReadModule(typeof(Program).Assembly.Location);

        var apiOnly = ApiOnlyTypes(jobs, worker, api);

        Assert.True(apiOnly.Count == 0,
            "Public types of ModelOpt.Jobs that neither the worker nor the Jobs code the worker runs uses, but the API does; move them into ModelOpt.Api:\n"
            + string.Join("\n", apiOnly));
    }

    [Fact]
    public void The_api_only_rule_finds_a_type_the_worker_does_not_reach()
    {
        // The rule, given a worker that uses nothing: every public Jobs type the API uses is reported.
        using var jobs = ModuleDefinition.ReadModule(typeof(OptimizationJob).Assembly.Location);
        using var api = ModuleDefinition.ReadModule(typeof(Program).Assembly.Location);
        using var emptyWorker = ModuleDefinition.CreateModule("NoWorker", ModuleKind.Dll);

        var apiOnly = ApiOnlyTypes(jobs, emptyWorker, api);

        Assert.Contains(typeof(OptimizationJob).FullName!, apiOnly);
    }

    /// <summary>
    /// The public top-level types of <paramref name="jobs"/> that <paramref name="api"/> references but that are not
    /// reached from <paramref name="worker"/>: its references, then, transitively, every Jobs type those reference.
    /// </summary>
    private static List<string> ApiOnlyTypes(ModuleDefinition jobs, ModuleDefinition worker, ModuleDefinition api)
    {
        var jobsTypes = jobs.GetTypes().ToDictionary(t => t.FullName, StringComparer.Ordinal);
        var reached = new HashSet<string>(StringComparer.Ordinal);
        var pending = new Queue<string>(worker.GetTypes().SelectMany(ReferencedTypes).Select(r => r.FullName).Where(jobsTypes.ContainsKey));
        while (pending.TryDequeue(out var name))
        {
            if (!reached.Add(name))
            {
                continue;
            }
            var type = jobsTypes[name];
            // A nested type's code is its outer type's (lambdas, state machines), and the other way round.
            IEnumerable<TypeReference> next = [.. ReferencedTypes(type), .. type.NestedTypes, .. type.DeclaringType is { } outer ? [outer] : Array.Empty<TypeReference>()];
            foreach (var reference in next.Select(r => r.FullName).Where(jobsTypes.ContainsKey))
            {
                pending.Enqueue(reference);
            }
        }
        var usedByApi = api.GetTypes().SelectMany(ReferencedTypes).Select(r => r.FullName).ToHashSet(StringComparer.Ordinal);
        return jobsTypes.Values
            .Where(t => t.IsPublic && !reached.Contains(t.FullName) && usedByApi.Contains(t.FullName))
            .Select(t => t.FullName).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>Every type a type's own code names: base, interfaces, attributes, members' signatures, and the operands of its IL.</summary>
    private static IEnumerable<TypeReference> ReferencedTypes(TypeDefinition type)
    {
        var direct = new List<TypeReference>();
        if (type.BaseType is not null)
        {
            direct.Add(type.BaseType);
        }
        direct.AddRange(type.Interfaces.Select(i => i.InterfaceType));
        direct.AddRange(Attributes(type));
        foreach (var field in type.Fields)
        {
            direct.Add(field.FieldType);
            direct.AddRange(Attributes(field));
        }
        foreach (var property in type.Properties)
        {
            direct.Add(property.PropertyType);
            direct.AddRange(Attributes(property));
        }
        foreach (var method in type.Methods)
        {
            direct.Add(method.ReturnType);
            direct.AddRange(method.Parameters.Select(p => p.ParameterType));
            direct.AddRange(Attributes(method));
            if (!method.HasBody)
            {
                continue;
            }
            direct.AddRange(method.Body.Variables.Select(v => v.VariableType));
            foreach (var instruction in method.Body.Instructions)
            {
                direct.AddRange(Operand(instruction));
            }
        }
        return direct.SelectMany(Unwrap);
    }

    private static IEnumerable<TypeReference> Operand(Instruction instruction) => instruction.Operand switch
    {
        TypeReference t => [t],
        MethodReference m => [m.DeclaringType, m.ReturnType, .. m.Parameters.Select(p => p.ParameterType),
            .. m is GenericInstanceMethod g ? g.GenericArguments : []],
        FieldReference f => [f.DeclaringType, f.FieldType],
        _ => [],
    };

    private static IEnumerable<TypeReference> Attributes(ICustomAttributeProvider provider) =>
        provider.CustomAttributes.SelectMany(a => (IEnumerable<TypeReference>)[a.AttributeType,
            .. a.ConstructorArguments.Select(arg => arg.Value).OfType<TypeReference>()]);

    /// <summary>The named types inside a reference: the element of an array or by-ref, a generic type and its arguments.</summary>
    private static IEnumerable<TypeReference> Unwrap(TypeReference reference)
    {
        switch (reference)
        {
            case GenericParameter:
                yield break;
            case GenericInstanceType generic:
                foreach (var inner in Unwrap(generic.ElementType).Concat(generic.GenericArguments.SelectMany(Unwrap)))
                {
                    yield return inner;
                }
                yield break;
            case TypeSpecification specification:
                foreach (var inner in Unwrap(specification.ElementType))
                {
                    yield return inner;
                }
                yield break;
            default:
                yield return reference;
                break;
        }
    }

    private static TypeReference Outermost(TypeReference type)
    {
        while (type.DeclaringType is not null)
        {
            type = type.DeclaringType;
        }
        return type;
    }
}
