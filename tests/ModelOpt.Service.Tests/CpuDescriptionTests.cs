using ModelOpt.Jobs.Workers;

namespace ModelOpt.Service.Tests;

public sealed class CpuDescriptionTests
{
    [Fact]
    public void Reads_the_model_and_the_int8_instruction_sets_from_cpuinfo()
    {
        const string sapphireRapids = """
            processor	: 0
            vendor_id	: GenuineIntel
            model name	: Intel(R) Xeon(R) Platinum 8480+
            flags		: fpu sse2 avx avx2 avx512f avx512_vnni amx_bf16 amx_tile amx_int8

            processor	: 1
            model name	: ignored
            """;
        const string zen2 = "model name\t: AMD EPYC 7B12\nflags\t\t: fpu sse2 avx avx2\n";

        Assert.Equal(new CpuDescription("Intel(R) Xeon(R) Platinum 8480+", true, true, true), CpuDescription.Parse(sapphireRapids));
        Assert.Equal(new CpuDescription("AMD EPYC 7B12", true, false, false), CpuDescription.Parse(zen2));
        Assert.Equal(new CpuDescription("unknown", false, false, false), CpuDescription.Parse(""));
    }

    [Fact]
    public void This_machine_s_cpu_is_read_from_proc_cpuinfo()
    {
        var cpu = CpuDescription.OfThisMachine();

        Assert.Equal(File.ReadLines(CpuDescription.CpuInfoPath).First(l => l.StartsWith("model name", StringComparison.Ordinal)).Split(':', 2)[1].Trim(), cpu.Model);
        Assert.Equal(File.ReadAllText(CpuDescription.CpuInfoPath).Contains(" avx512_vnni", StringComparison.Ordinal), cpu.Avx512Vnni);
    }
}
