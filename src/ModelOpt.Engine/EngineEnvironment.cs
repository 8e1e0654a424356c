using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace ModelOpt.Engine;

/// <summary>
/// Process-wide settings every host of the engine needs, applied when the engine assembly loads so that tests,
/// the bench, the API's in-process worker and the worker all get them without a launcher's help.
/// </summary>
public static partial class EngineEnvironment
{
    // mallopt parameter numbers from glibc's malloc.h.
    private const int MallocTrimThreshold = -1;
    private const int MallocTopPad = -2;
    private const int MallocMmapMax = -4;

    // Above glibc's 64 MiB per-thread heap: an emptied heap of a thread's arena is then kept, not unmapped.
    private const int TopPadBytes = 256 << 20;

    /// <summary>"1": glibc's defaults; "top-pad": the setting without the top pad. Only for scripts/bench-allocator.sh.</summary>
    public const string KeepDefaultAllocatorVariable = "MODELOPT_KEEP_DEFAULT_MALLOC";

    /// <summary>Whether glibc's allocator was switched off mmap (false on non-glibc platforms).</summary>
    public static bool HeapAllocatorTuned { get; private set; }

    /// <summary>
    /// glibc serves every block above 128 KiB-32 MiB with a fresh mmap and unmaps it on free, so each
    /// multi-megabyte activation of an FP32 forward costs page faults: measured 5x slower end to end.
    /// Keeping large blocks on the heap (no mmap, no trimming) is the in-process equivalent of
    /// GLIBC_TUNABLES=glibc.malloc.mmap_threshold=...:glibc.malloc.trim_threshold=..., which glibc reads only at exec.
    /// The trim threshold does not cover the arenas of threads other than the main one (stages run on worker threads):
    /// glibc unmaps such a thread's 64 MiB heap as soon as it is empty, whatever the threshold, unless the top pad
    /// exceeds the heap size. Without the pad, resnet20's FP32 eager batch took 70-81 ms against 62-65 ms with it
    /// (scripts/bench-allocator.sh, ADR-001).
    /// </summary>
#pragma warning disable CA2255 // A library initializer is the point: no host may forget the allocator setting.
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Initialize()
    {
        // Only to measure what the setting is worth: scripts/bench-allocator.sh runs the bench with and without its parts.
        var keep = Environment.GetEnvironmentVariable(KeepDefaultAllocatorVariable);
        if (!OperatingSystem.IsLinux() || keep == "1")
        {
            return;
        }
        try
        {
            HeapAllocatorTuned = mallopt(MallocMmapMax, 0) == 1 && mallopt(MallocTrimThreshold, int.MaxValue) == 1
                && (keep == "top-pad" || mallopt(MallocTopPad, TopPadBytes) == 1);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            HeapAllocatorTuned = false; // musl or another libc: no mallopt, nothing to tune.
        }
    }

    [LibraryImport("libc", EntryPoint = "mallopt")]
    private static partial int mallopt(int parameter, int value);
}
