// Lets WebApplicationFactory<Program> in tests/ModelOpt.Service.Tests find the entry point.
public partial class Program;
