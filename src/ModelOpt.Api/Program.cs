using ModelOpt.Api.Extensions;
using ModelOpt.Api.Security;

if (args is [ApiKeyCommand.Verb, .. var keyArgs])
{
    return await ApiKeyCommand.RunAsync(keyArgs);
}

var builder = WebApplication.CreateBuilder(args);
builder.AddModelOptApi();

var app = builder.Build();
app.UseModelOptApi();
app.Run();
return 0;
