using ModelOpt.Api.Extensions;

var builder = WebApplication.CreateBuilder(args);
builder.AddModelOptApi();

var app = builder.Build();
app.UseModelOptApi();
app.Run();
