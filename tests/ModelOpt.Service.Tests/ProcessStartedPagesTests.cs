using ModelOpt.Service.Tests.Infrastructure.Browser;
using OpenQA.Selenium;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The pages of the API started as the quickstart and the README start it (<see cref="ApiProcess"/>: the build output's
/// dll, Production, content root at the working directory), read in headless Chromium: styled, scripted, charts in colour.
/// </summary>
public sealed class ProcessStartedPagesTests
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(5);
    private static readonly string[] StaticFiles = ["css/site.css", "js/api.js", "js/job-details.js", "js/job-new.js", "js/jobs-list.js"];

    [Fact]
    public async Task Static_files_are_served_when_the_api_is_started_from_another_directory()
    {
        var elsewhere = Directory.CreateTempSubdirectory("modelopt-cwd-").FullName;
        try
        {
            await using var api = await ApiProcess.StartAsync(elsewhere, new Dictionary<string, string> { ["ModelOpt__Worker__Embedded"] = "false" });
            using var client = api.CreateClient();
            foreach (var file in StaticFiles)
            {
                var response = await client.GetAsync("/" + file);
                Assert.True(response.StatusCode == HttpStatusCode.OK, $"/{file}: {response.StatusCode}\n{api.Output}");
                var source = await File.ReadAllTextAsync(Path.Combine(RepositoryPaths.Root, "src", "ModelOpt.Api", "wwwroot", file));
                Assert.Equal(source, await response.Content.ReadAsStringAsync());
            }
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
        }
    }

    [SkippableFact]
    public async Task The_job_page_is_styled_scripted_and_its_charts_coloured_as_the_quickstart_serves_it()
    {
        using var browser = HeadlessChromium.Start(windowHeight: 1600);
        await using var api = await ApiProcess.StartAsync(RepositoryPaths.Root);
        using var client = api.CreateClient();
        var job = await client.SubmitAsync(LightJob);
        job = await client.WaitForFinishAsync(job.Id, JobTimeout);
        Assert.True(job.Status == JobStatus.Succeeded, $"{job.Error}\n{api.Output}");

        var driver = browser.Driver;
        driver.Navigate().GoToUrl(new Uri(api.Address, $"/jobs/{job.Id}"));
        var loaded = Script<IReadOnlyCollection<object>>(driver,
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname + ' ' + e.responseStatus);");
        Assert.Contains("/css/site.css 200", loaded.Cast<string>());
        Assert.Contains("/js/api.js 200", loaded.Cast<string>());
        Assert.Contains("/js/job-details.js 200", loaded.Cast<string>());
        Assert.True(Script<bool>(driver, "return typeof window.modelopt === 'object';"), "api.js did not run");

        // The stylesheet's values, not the browser's defaults (a transparent header, 16 px text, black SVG shapes).
        Assert.Equal("rgb(17, 24, 39)", Style(driver, "header.top", "background-color"));
        Assert.Equal("14px", Style(driver, "body", "font-size"));
        Assert.Equal("rgb(147, 197, 253)", Style(driver, "#chart-latency rect.bar:not(.selected)", "fill"));
        Assert.Equal("rgb(37, 99, 235)", Style(driver, "#chart-latency rect.bar.selected", "fill"));
        Assert.Equal("none", Style(driver, "#chart-scatter path.axis", "fill"));
        browser.Screenshot("page-job");
    }

    /// <summary>Every stage on the built-in synthetic data in seconds: the quickstart's job, scaled down.</summary>
    internal static readonly object LightJob = new
    {
        model = "resnet20", dataset = "synthetic",
        training = new { epochs = 1, trainSubset = 64, batchSize = 32 },
        quantization = new { calibrationImages = 32 },
        evaluation = new { testSubset = 64, latencyBatchSize = 8, warmupRuns = 1, timedRuns = 3 },
    };

    private static string Style(IWebDriver driver, string css, string property) =>
        Script<string>(driver, "const e = document.querySelector(arguments[0]); return e ? getComputedStyle(e).getPropertyValue(arguments[1]) : 'no ' + arguments[0];", css, property);

    private static T Script<T>(IWebDriver driver, string script, params object[] args) => (T)((IJavaScriptExecutor)driver).ExecuteScript(script, args)!;
}
