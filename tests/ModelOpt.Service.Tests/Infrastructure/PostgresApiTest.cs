namespace ModelOpt.Service.Tests.Infrastructure;

/// <summary>A test class's own PostgreSQL database and the API over it, with no worker: for tests of the API alone.</summary>
public abstract class PostgresApiTest : IAsyncLifetime
{
    protected TestPostgres Db { get; private set; } = null!;

    protected ServiceFactory Factory { get; private set; } = null!;

    protected HttpClient Client { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Db = await TestPostgres.CreateAsync();
        Factory = new ServiceFactory(ServiceFactory.Postgres(Db, embeddedWorker: false));
        Client = Factory.CreateClient();
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        await Db.DisposeAsync();
    }
}
