using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using Hangfire;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.OpenApi;
using ModelOpt.Api.Application.Checkpoints;
using ModelOpt.Api.Application.Datasets;
using ModelOpt.Api.Application.Jobs;
using ModelOpt.Api.Endpoints;
using ModelOpt.Api.Infrastructure;
using ModelOpt.Api.Infrastructure.Json;
using ModelOpt.Api.Infrastructure.OpenApi;
using ModelOpt.Api.Presentation;
using ModelOpt.Api.Security;
using ModelOpt.Jobs.Extensions;
using ModelOpt.Jobs.Options;
using Serilog;

namespace ModelOpt.Api.Extensions;

public static class ApiExtensions
{
    public static WebApplicationBuilder AddModelOptApi(this WebApplicationBuilder builder)
    {
        builder.Configuration.AddModelOptSharedSettings();
        builder.Services.AddSerilog((_, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .Enrich.FromLogContext()
            .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}"));

        // First hosted service: the schema is current before the embedded worker starts.
        builder.Services.AddHostedService<DatabaseMigrator>();
        builder.AddModelOptCore();
        var worker = new WorkerOptions();
        builder.Configuration.GetSection(WorkerOptions.Section).Bind(worker);
        if (worker.Embedded)
        {
            // The zero-setup default: the same worker component as ModelOpt.Worker, in this process.
            builder.AddModelOptWorker();
        }

        builder.Services.ConfigureHttpJsonOptions(o => ConfigureWireJson(o.SerializerOptions));
        // Swashbuckle reads MVC's options (Razor Pages bring MVC): the same settings, so the document describes the wire (enums as names).
        builder.Services.Configure<Microsoft.AspNetCore.Mvc.JsonOptions>(o => ConfigureWireJson(o.JsonSerializerOptions));
        // A body or query value the framework cannot bind throws, so it becomes problem details naming the field (BadRequestProblem).
        builder.Services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        builder.Services.AddProblemDetails();
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<IProblemDetailsWriter, ProblemJsonFallbackWriter>());
        builder.Services.AddExceptionHandler<ProblemDetailsExceptionHandler>();
        builder.AddModelOptSecurity();
        builder.Services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>("database")
            .AddCheck<HangfireHealthCheck>("hangfire")
            .AddCheck<ArtifactStoreHealthCheck>("artifact-store");
        builder.Services.AddRazorPages();
        builder.ServeStaticFilesFromAnyDirectory();
        // The use cases the endpoints and the pages both call (ADR-026), and the upload handlers' [AsParameters] bundles.
        builder.Services.AddScoped<SubmitJobHandler>();
        builder.Services.AddScoped<JobCommands>();
        builder.Services.AddScoped<JobQueries>();
        builder.Services.AddScoped<CheckpointQueries>();
        builder.Services.AddScoped<DatasetQueries>();
        builder.Services.AddScoped<CheckpointServices>();
        builder.Services.AddScoped<DatasetServices>();
        builder.Services.AddEndpointsApiExplorer();
        builder.Services.AddSwaggerGen(o =>
        {
            o.SwaggerDoc("v1", new OpenApiInfo
            {
                Title = "ModelOpt",
                Version = "v1",
                Description = "Makes trained networks smaller: int8 post-training quantization (PyTorch's x86 recipe) with TorchSharp. "
                              + "Upload an FP32 checkpoint (or let the job train one), submit a job, follow its stages, download the int8 model.",
            });
            o.OperationFilter<MultipartFormOperationFilter>();
            o.OperationFilter<ExampleValuesOperationFilter>();
            o.DocumentAsyncFilter<ExistingResourceExamplesFilter>();
            o.OperationFilter<IdempotencyKeyOperationFilter>();
            o.OperationFilter<ResponsesOperationFilter>();
            o.SchemaFilter<ContractDefaultsSchemaFilter>();
            o.ParameterFilter<EnumListParameterFilter>();
            // A nullable reference (currentStage, headline, calibration) says nullable: allOf around the $ref carries it.
            o.UseAllOfToExtendReferenceSchemas();
            o.AddApiKeySecurity();
            o.SupportNonNullableReferenceTypes();
            foreach (var xml in new[] { Assembly.GetExecutingAssembly(), typeof(CreateJobRequest).Assembly }
                         .Select(a => Path.Combine(AppContext.BaseDirectory, $"{a.GetName().Name}.xml")).Where(File.Exists))
            {
                o.IncludeXmlComments(xml);
            }
        });
        return builder;
    }

    /// <summary>How the API's JSON reads and writes: enums as names, every property written, unknown properties refused.</summary>
    private static void ConfigureWireJson(JsonSerializerOptions options)
    {
        options.Converters.Add(new NamedEnumConverterFactory());
        options.DefaultIgnoreCondition = JsonIgnoreCondition.Never;
        // The document says additionalProperties: false; a misspelt setting ("epochz") is a 400, not silently its default.
        options.UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow;
        // And a property it marks required is required: a key request without its scope is a 400, not a read key.
        options.RespectRequiredConstructorParameters = true;
    }

    public static WebApplication UseModelOptApi(this WebApplication app)
    {
        // Outside the exception handler, so that the logged status is the answer the client got (400, not 500).
        app.UseSerilogRequestLogging();
        app.UseExceptionHandler();
        app.UseStatusCodePages();

        app.UseSwagger();
        app.UseSwaggerUI(o =>
        {
            o.SwaggerEndpoint("/swagger/v1/swagger.json", "ModelOpt v1");
            o.DocumentTitle = "ModelOpt API";
            // A key given to Authorize survives reloads (kept in the browser's local storage).
            o.EnablePersistAuthorization();
        });
        app.UseModelOptSecurity();
        app.UseHangfireDashboard(ApiKeyAuthenticationHandler.DashboardPath, new DashboardOptions
        {
            DashboardTitle = "ModelOpt jobs",
            Authorization = [],
            AsyncAuthorization = [new DashboardAuthorization()],
        });

        app.MapHealthChecks("/health", new HealthCheckOptions
        {
            ResponseWriter = WriteHealthAsync,
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
        }).WithTags("Health");
        app.UseStaticFiles();
        app.MapRazorPages().RequireAuthorization(ApiKeyDefaults.Policy(ApiKeyScope.Read));
        var api = app.MapGroup("").RequireScopeByMethod().RefuseUnknownQueryParameters();
        api.MapCheckpointEndpoints();
        api.MapJobEndpoints();
        api.MapJobComparisonEndpoints();
        api.MapCatalogEndpoints();
        api.MapDatasetEndpoints();
        api.MapTeamEndpoints();
        api.MapApiKeyEndpoints();
        api.MapWorkerEndpoints();
        api.MapWorkerFileEndpoints();
        return app;
    }

    /// <summary>
    /// Anyone may call /health (load balancers, compose): they get each check's status only. Its description and data
    /// (database provider, worker queues) are internal detail, shown with an admin key. Exception text never appears; the
    /// health service logs it.
    /// </summary>
    private static Task WriteHealthAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        var detailed = ApiKeyDefaults.ScopeOf(context.User) == ApiKeyScope.Admin;
        return context.Response.WriteAsync(JsonSerializer.Serialize(new
        {
            status = report.Status.ToString(),
            durationMs = report.TotalDuration.TotalMilliseconds,
            checks = report.Entries.ToDictionary(e => e.Key, e => detailed
                ? (object)new { status = e.Value.Status.ToString(), description = e.Value.Description, data = e.Value.Data }
                : new { status = e.Value.Status.ToString() }),
        }, new JsonSerializerOptions(JsonSerializerDefaults.Web)));
    }
}
