using Microsoft.AspNetCore.Mvc.RazorPages;
using ModelOpt.Jobs.Workers;

namespace ModelOpt.Api.Pages;

/// <summary>The workers GET /api/workers lists: live ones first, then those lost or stopped recently.</summary>
public sealed class WorkersModel(WorkerRegistry registry) : PageModel
{
    public IReadOnlyList<WorkerDto> Workers { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken) => Workers = await registry.ListAsync(cancellationToken);

    /// <summary>The int8 instruction sets the worker's CPU has, as /proc/cpuinfo names them.</summary>
    public static string InstructionSets(WorkerDto w) =>
        string.Join(" ", new[] { (w.Avx2, "AVX2"), (w.Avx512Vnni, "AVX-512 VNNI"), (w.Amx, "AMX") }.Where(f => f.Item1).Select(f => f.Item2)) is { Length: > 0 } sets
            ? sets
            : "—";
}
