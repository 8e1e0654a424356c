using ModelOpt.Engine.Pipeline;

namespace ModelOpt.Bench;

/// <summary>One overwritten status line on a terminal; one line per report when the output is redirected.</summary>
internal sealed class ConsoleProgress : IProgress<PipelineProgress>
{
    private DateTime lastLine = DateTime.MinValue;

    public void Report(PipelineProgress value)
    {
        var line = $"{value.Stage} {value.Fraction * 100,5:F1} % {value.Message}";
        if (!Console.IsOutputRedirected)
        {
            Console.Write("\r" + line.PadRight(100)[..100]);
        }
        else if (DateTime.UtcNow - lastLine > TimeSpan.FromSeconds(5) || value.Fraction >= 1)
        {
            Console.WriteLine(line);
            lastLine = DateTime.UtcNow;
        }
    }
}
