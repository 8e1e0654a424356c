namespace ModelOpt.ServiceBench;

public enum BenchProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Command-line options of the service benchmark.</summary>
public sealed record ServiceBenchOptions
{
    public const string Usage = """
        Usage: dotnet run -c Release --project bench/ModelOpt.ServiceBench -- [options]
          --provider sqlite|postgres   storage of the API under test (default sqlite; postgres is the production figure)
          --connection "<npgsql>"      PostgreSQL server to use (required with postgres); the bench creates a throwaway
                                       database on it (the role needs CREATEDB) and drops it afterwards
          --api-dll PATH               the API to start (default: src/ModelOpt.Api/bin/Release/net10.0/linux-x64/ModelOpt.Api.dll)
          --port N                     loopback port of the API (default 5095)
          --clients N                  concurrent clients of the load test (default 50)
          --requests N                 measured POST /api/jobs requests (default 2000)
          --duration SECONDS           or stop the load test after this long, whichever first (default 30)
          --warmup N                   unmeasured requests before the load test (default 100)
          --dataset NAME               dataset of the queued jobs (default fashion-mnist; synthetic needs no files)
          --skip-load | --skip-upload  run only one of the two measurements
          --dataset-upload             also measure an uploaded ImageFolder zip: upload time, one decoding epoch, and the
                                       peak memory of the API's embedded worker while a job scores its test split
          --dataset-train N            training images of that zip (default 50000, Fashion-MNIST's first N)
          --dataset-test N             test images of that zip (default 10000)
          --dataset-baseline           the scoring job reads the same test images from the built-in fashion-mnist instead
          --artifact-transfer          also measure a worker's artifact transfer through the API (ModelOpt:Worker:Artifacts=Api):
                                       a 45 MB resnet18-cifar file uploaded and downloaded --transfer-rounds times (MB/s,
                                       the worker's and the API's RSS while streaming)
          --transfer-rounds N          measured rounds of that transfer, after one warm-up round (default 3)
          --keep                       keep the temporary data root (API log, SQLite files, uploads)
        """;

    public BenchProvider Provider { get; init; } = BenchProvider.Sqlite;
    public string? Connection { get; init; }
    public string? ApiDll { get; init; }
    public int Port { get; init; } = 5095;
    public int Clients { get; init; } = 50;
    public int Requests { get; init; } = 2000;
    public TimeSpan Duration { get; init; } = TimeSpan.FromSeconds(30);
    public int Warmup { get; init; } = 100;
    public string Dataset { get; init; } = "fashion-mnist";
    public bool SkipLoad { get; init; }
    public bool SkipUpload { get; init; }
    public bool Keep { get; init; }
    public bool DatasetUpload { get; init; }
    public int DatasetTrain { get; init; } = 50_000;
    public int DatasetTest { get; init; } = 10_000;
    public bool DatasetBaseline { get; init; }
    public bool ArtifactTransfer { get; init; }
    public int TransferRounds { get; init; } = 3;

    /// <exception cref="ArgumentException">An unknown option, a missing value or a value out of range.</exception>
    public static ServiceBenchOptions Parse(IReadOnlyList<string> args)
    {
        var options = new ServiceBenchOptions();
        for (var i = 0; i < args.Count; i++)
        {
            string Value() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value.");
            options = args[i] switch
            {
                "--provider" => options with
                {
                    Provider = Enum.TryParse<BenchProvider>(Value(), ignoreCase: true, out var p) ? p
                        : throw new ArgumentException("--provider is sqlite or postgres."),
                },
                "--connection" => options with { Connection = Value() },
                "--api-dll" => options with { ApiDll = Value() },
                "--port" => options with { Port = Positive(args[i], Value()) },
                "--clients" => options with { Clients = Positive(args[i], Value()) },
                "--requests" => options with { Requests = Positive(args[i], Value()) },
                "--duration" => options with { Duration = TimeSpan.FromSeconds(Positive(args[i], Value())) },
                "--warmup" => options with { Warmup = int.TryParse(Value(), out var w) && w >= 0 ? w : throw new ArgumentException("--warmup is 0 or more.") },
                "--dataset" => options with { Dataset = Value() },
                "--skip-load" => options with { SkipLoad = true },
                "--skip-upload" => options with { SkipUpload = true },
                "--keep" => options with { Keep = true },
                "--dataset-upload" => options with { DatasetUpload = true },
                "--dataset-train" => options with { DatasetTrain = Positive(args[i], Value()) },
                "--dataset-test" => options with { DatasetTest = Positive(args[i], Value()) },
                "--dataset-baseline" => options with { DatasetBaseline = true },
                "--artifact-transfer" => options with { ArtifactTransfer = true },
                "--transfer-rounds" => options with { TransferRounds = Positive(args[i], Value()) },
                _ => throw new ArgumentException($"Unknown option {args[i]}."),
            };
        }
        if (options.Provider == BenchProvider.Postgres && string.IsNullOrWhiteSpace(options.Connection))
        {
            throw new ArgumentException("--provider postgres needs --connection (e.g. \"$(scripts/start-postgres.sh | tail -1)\").");
        }
        return options;
    }

    private static int Positive(string name, string value) =>
        int.TryParse(value, out var n) && n > 0 ? n : throw new ArgumentException($"{name} is a positive integer.");
}
