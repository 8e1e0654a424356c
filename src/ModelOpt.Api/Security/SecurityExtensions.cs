using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection.Extensions;
using ModelOpt.Jobs.Infrastructure;
using Microsoft.OpenApi;
using Swashbuckle.AspNetCore.SwaggerGen;

namespace ModelOpt.Api.Security;

public static class SecurityExtensions
{
    /// <summary>API keys (scheme, scope policies, the key store), the embedded default's open access and the per-key rate limit.</summary>
    public static WebApplicationBuilder AddModelOptSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<RateLimitOptions>().BindConfiguration(RateLimitOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<ApiKeyStore>();
        services.AddSingleton<OpenAccess>();
        services.AddHttpContextAccessor();
        // Replaces the service's all-teams scope: a request's queries see its key's team (ADR-024).
        services.Replace(ServiceDescriptor.Scoped<ITeamScope, CallerTeamScope>());
        services.AddSingleton<IAuthorizationHandler, ScopeAuthorizationHandler>();
        services.AddAuthentication(ApiKeyDefaults.Scheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthenticationHandler>(ApiKeyDefaults.Scheme, null);
        services.AddAuthorization(o =>
        {
            foreach (var scope in Enum.GetValues<ApiKeyScope>())
            {
                o.AddPolicy(ApiKeyDefaults.Policy(scope), p => p.AddRequirements(new ScopeRequirement(scope)));
            }
        });
        services.AddRateLimiter(RateLimiting.Configure);
        return builder;
    }

    /// <summary>The rate limit (before any key is looked up in the database), then authentication, then authorization.</summary>
    public static WebApplication UseModelOptSecurity(this WebApplication app)
    {
        app.UseRateLimiter();
        app.UseAuthentication();
        app.UseAuthorization();
        return app;
    }

    /// <summary>Every endpoint under <paramref name="builder"/> needs a key: GET and HEAD the read scope, the rest write, unless it names its own policy.</summary>
    public static TBuilder RequireScopeByMethod<TBuilder>(this TBuilder builder) where TBuilder : IEndpointConventionBuilder
    {
        builder.Finally(endpoint =>
        {
            if (endpoint.Metadata.OfType<IAuthorizeData>().Any())
            {
                return;
            }
            var readOnly = endpoint.Metadata.OfType<HttpMethodMetadata>().SelectMany(m => m.HttpMethods).All(m => m is "GET" or "HEAD");
            endpoint.Metadata.Add(new AuthorizeAttribute(ApiKeyDefaults.Policy(readOnly ? ApiKeyScope.Read : ApiKeyScope.Write)));
        });
        return builder;
    }

    /// <summary>Swagger UI's Authorize button: a bearer scheme every operation uses, so "Try it out" sends <c>Authorization: Bearer &lt;key&gt;</c>.</summary>
    public static void AddApiKeySecurity(this SwaggerGenOptions options)
    {
        options.AddSecurityDefinition("Bearer", new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An API key (mo_…), from 'ModelOpt.Api keys create --scope read|write|worker|admin' or POST /api/keys. "
                          + "Not needed on the embedded default from localhost until the first key is created.",
        });
        options.AddSecurityRequirement(document => new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("Bearer", document)] = [] });
    }
}
