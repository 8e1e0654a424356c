using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Execution;

namespace ModelOpt.Service.Tests;

public class StageEtaTests
{
    private const long Frequency = 1_000;

    [Fact]
    public void The_remaining_time_is_the_measured_rate_after_the_first_report_times_what_is_left()
    {
        var eta = new StageEta(PipelineStage.Train);

        Assert.Null(eta.Observe(0.10, timestamp: 5_000, Frequency));
        Assert.Null(eta.Observe(0.11, timestamp: 5_500, Frequency));
        // 0.2 of the stage in 10 s after the first report: 0.7 left is 35 s. Loading before the first report does not count.
        Assert.Equal(35.0, eta.Observe(0.30, timestamp: 15_000, Frequency));
    }

    [Fact]
    public void No_progress_since_the_first_report_gives_no_estimate()
    {
        var eta = new StageEta(PipelineStage.Compile);

        eta.Observe(0.5, timestamp: 0, Frequency);

        Assert.Null(eta.Observe(0.5, timestamp: 60_000, Frequency));
    }
}
