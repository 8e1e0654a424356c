namespace ModelOpt.Engine.Data;

public sealed class UnknownDatasetException(string name, IEnumerable<string> known)
    : ArgumentException($"Unknown dataset '{name}'. Known datasets: {string.Join(", ", known)}.");
