namespace ModelOpt.Engine.Models;

public sealed class UnknownModelException(string name, IEnumerable<string> known)
    : ArgumentException($"Unknown model '{name}'. Known models: {string.Join(", ", known)}.");
