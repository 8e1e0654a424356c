using ModelOpt.Jobs.Extensions;
using Serilog;

// A worker host: a Hangfire server with one worker on its device's queue (ModelOpt:Worker:Device), running the same
// job component the API embeds. It never migrates the database: the API does that at start-up.
var builder = Host.CreateApplicationBuilder(args);
builder.Configuration.AddModelOptSharedSettings();
builder.Services.AddSerilog((_, logger) => logger
    .ReadFrom.Configuration(builder.Configuration)
    .Enrich.FromLogContext()
    .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj} {Properties:j}{NewLine}{Exception}"));
builder.AddModelOptCore();
builder.AddModelOptWorker();

var host = builder.Build();
await host.RunAsync();
