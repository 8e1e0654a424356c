namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>
/// A test class's own PostgreSQL database and the API over it, with no worker (tests of the API alone) unless the class
/// asks for the embedded one (<see cref="EmbeddedWorker"/>).
/// </summary>
public abstract class PostgresApiTest : IAsyncLifetime
{
    protected TestPostgres Db { get; private set; } = null!;

    protected ServiceFactory Factory { get; private set; } = null!;

    protected HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestPostgres.CreateAsync();
        var settings = ServiceFactory.Postgres(Db, EmbeddedWorker);
        Configure(settings);
        Factory = new ServiceFactory(settings);
        Client = Factory.CreateClient();
    }

    /// <summary>Whether the API hosts a worker that runs the jobs the tests submit.</summary>
    protected virtual bool EmbeddedWorker => false;

    /// <summary>Changes the API's settings before it starts (e.g. smaller limits).</summary>
    protected virtual void Configure(Dictionary<string, string?> settings)
    {
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Db.DisposeAsync();
    }
}
