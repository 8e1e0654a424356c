using ModelOpt.Api.Presentation;
using ModelOpt.Engine.Pipeline;
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
    public async Task The_pages_are_styled_and_show_the_apis_figures_as_the_quickstart_serves_them()
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
            "return performance.getEntriesByType('resource').map(e => new URL(e.name).pathname + ' ' + e.responseStatus);").Cast<string>().ToList();
        Assert.Contains("/css/site.css 200", loaded);
        Assert.Contains("/js/api.js 200", loaded);
        Assert.Contains("/js/job-details.js 200", loaded);
        Assert.True(Script<bool>(driver, "return typeof window.modelopt === 'object';"), "api.js did not run");

        // The stylesheet's values, not the browser's defaults (a transparent header, 16 px text, black SVG shapes).
        Assert.Equal("rgb(17, 24, 39)", Style(driver, "header.top", "background-color"));
        Assert.Equal("14px", Style(driver, "body", "font-size"));
        Assert.Equal("rgb(147, 197, 253)", Style(driver, "#chart-latency rect.bar:not(.selected)", "fill"));
        Assert.Equal("rgb(37, 99, 235)", Style(driver, "#chart-latency rect.bar.selected", "fill"));
        Assert.Equal("none", Style(driver, "#chart-scatter path.axis", "fill"));

        // The headline, against the stage results: both speed-ups with their baselines, the accuracies with their images.
        var rows = job.Stages.SelectMany(s => s.Results.Select(r => (s.Stage, Row: r))).ToList();
        Assert.Contains(rows, r => r.Row.Backend == "onnxruntime-fp32");
        var eager = rows.Single(r => r.Stage == PipelineStage.EvaluateFp32).Row;
        var delivered = rows.Where(r => r.Stage == PipelineStage.Compile && r.Row.Selected).Select(r => r.Row).FirstOrDefault()
                        ?? rows.First(r => r.Stage == PipelineStage.Convert && r.Row.Selected).Row;
        var fastestFp32 = rows.Where(r => r.Stage == PipelineStage.EvaluateFp32 || r.Row.Backend == "onnxruntime-fp32").MinBy(r => r.Row.LatencyMeanMs).Row;
        string Figure(string name) => driver.FindElement(By.CssSelector($"#headline [data-figure='{name}']")).Text;
        Assert.Equal(delivered.Backend, Figure("delivered-backend"));
        Assert.Equal(Format.Ratio(fastestFp32.LatencyMeanMs / delivered.LatencyMeanMs), Figure("speedup-fastest-fp32"));
        Assert.Equal(fastestFp32.Backend, Figure("fastest-fp32-backend"));
        Assert.Equal(Format.Ratio(eager.LatencyMeanMs / delivered.LatencyMeanMs), Figure("speedup-eager"));
        Assert.Equal(Format.Percent(eager.Accuracy), Figure("fp32-accuracy"));
        Assert.Equal(Format.Percent(delivered.Accuracy), Figure("delivered-accuracy"));
        Assert.Equal(64, eager.ImagesScored);
        Assert.Equal(64, delivered.ImagesScored);
        Assert.Contains("on the same 64 test images", driver.FindElement(By.Id("headline")).Text);

        // The delivered file: the one that runs the delivered form, marked in the API's list, the table and the headline.
        var deliveredFile = delivered.Backend switch
        {
            "onnxruntime-int8-qdq" => "model-int8.onnx",
            "libtorch-int8-onednn-fused" => "model-int8-onednn-fused.pt",
            _ => "model-int8.pt",
        };
        var artifacts = (await client.GetFromJsonAsync<PagedResult<ArtifactDto>>($"/api/jobs/{job.Id}/artifacts", ApiClient.Json))!.Items;
        Assert.Equal([deliveredFile], artifacts.Where(a => a.Delivered).Select(a => a.Name));
        Assert.Equal([deliveredFile], job.Artifacts.Where(a => a.Delivered).Select(a => a.Name));
        Assert.Equal([deliveredFile], driver.FindElements(By.CssSelector("#artifacts tr.delivered")).Select(r => r.GetAttribute("data-artifact")));
        Assert.Equal(deliveredFile, Figure("delivered-artifact"));

        // The settings as given: the training section (this job trained), no split (a built-in dataset), yes / no, unset as "—".
        string Setting(string section, string key) => driver.FindElement(By.CssSelector($"#settings dl[data-section='{section}'] dd[data-key='{key}']")).Text;
        Assert.Equal("64", Setting("training", "trainSubset"));
        Assert.Equal("64", Setting("evaluation", "testSubset"));
        Assert.Equal("32", Setting("quantization", "calibrationImages"));
        Assert.Equal("yes", Setting("quantization", "perChannelWeights"));
        Assert.Equal("no", Setting("quantization", "biasCorrection"));
        Assert.Equal("none", Setting("quantization", "keepFloat"));
        Assert.Equal("— (no budget)", Setting("quantization", "maxAccuracyDrop"));
        Assert.Equal("— (no crop)", Setting("preprocessing", "centerCrop"));
        Assert.Empty(driver.FindElements(By.CssSelector("#settings dl[data-section='split']")));
        Assert.DoesNotContain(driver.FindElements(By.CssSelector("#settings dd")).Select(d => d.Text), t => t is "all" or "True" or "False");
        browser.Screenshot("page-job");

        // Two more jobs: one like the first with another observer, one on fewer images and a smaller latency batch.
        var minmax = await client.SubmitAsync(WithObserver("minmax"));
        var smaller = await client.SubmitAsync(new
        {
            model = "resnet20", dataset = "synthetic", training = new { epochs = 1, trainSubset = 64, batchSize = 32 },
            quantization = new { calibrationImages = 32 }, evaluation = new { testSubset = 32, latencyBatchSize = 4, warmupRuns = 1, timedRuns = 3 },
        });
        var jobs = new[] { job, await client.WaitForFinishAsync(minmax.Id, JobTimeout), await client.WaitForFinishAsync(smaller.Id, JobTimeout) };
        Assert.All(jobs, j => Assert.Equal(JobStatus.Succeeded, j.Status));

        // The list: distinct short ids (UUIDv7s created the same second share their start), device, both speed-ups as the API states them.
        driver.Navigate().GoToUrl(api.Address);
        var ids = driver.FindElements(By.CssSelector("#jobs td.job-id")).Select(c => c.Text).ToList();
        Assert.Equal(3, ids.Distinct().Count());
        foreach (var listed in jobs)
        {
            var row = driver.FindElement(By.CssSelector($"#jobs tr[data-job-id='{listed.Id}']"));
            var h = listed.Headline!;
            Assert.Equal("cpu", row.FindElement(By.CssSelector(".device")).Text);
            Assert.Equal($"{Format.Ratio(h.SpeedUpOverFastestFp32)} ({h.FastestFp32Backend})", row.FindElement(By.CssSelector(".speedup")).Text);
            Assert.Equal(Format.Ratio(h.SpeedUp), row.FindElement(By.CssSelector(".speedup-eager")).Text);
            Assert.Equal($"{Format.Percent(h.Fp32Accuracy)} → {Format.Percent(h.DeliveredAccuracy)} ({h.ImagesScored} images)", row.FindElement(By.CssSelector(".accuracy")).Text);
        }
        browser.Screenshot("page-jobs");

        // Compare: image counts, latency spreads, and a warning for each way the third job is not comparable.
        driver.Navigate().GoToUrl(new Uri(api.Address, $"/compare?ids={string.Join(",", jobs.Select(j => j.Id))}"));
        var cells = jobs.Select(j => driver.FindElement(By.CssSelector($"#comparison tr[data-job-id='{j.Id}']"))).ToList();
        Assert.Equal(["64 images", "64 images", "⚠ 32 images"], cells.Select(c => c.FindElement(By.CssSelector(".images")).Text));
        Assert.Equal(jobs.Select(j => $"{Format.Percent(j.Headline!.Fp32Accuracy)} → {Format.Percent(j.Headline.DeliveredAccuracy)}"), cells.Select(c => c.FindElement(By.CssSelector(".accuracy")).Text));
        Assert.Equal(["8", "8", "⚠ 4"], cells.Select(c => c.FindElement(By.CssSelector(".batch")).Text));
        for (var i = 0; i < jobs.Length; i++)
        {
            var fp32 = Selected(jobs[i], PipelineStage.EvaluateFp32)!;
            var form = (Selected(jobs[i], PipelineStage.Compile) ?? Selected(jobs[i], PipelineStage.Convert))!;
            Assert.Equal($"{Format.LatencyWithSpread(fp32.LatencyMeanMs, fp32.LatencyStdMs)} → {Format.LatencyWithSpread(form.LatencyMeanMs, form.LatencyStdMs)}",
                cells[i].FindElement(By.CssSelector(".latency")).Text);
        }
        Assert.Single(driver.FindElements(By.Id("different-images")));
        Assert.Single(driver.FindElements(By.Id("different-batches")));
        Assert.Empty(driver.FindElements(By.Id("different-cpus")));
        browser.Screenshot("page-compare");

        // The form starts from a light job, takes .onnx files, and shows the API's messages in its JSON names.
        driver.Navigate().GoToUrl(new Uri(api.Address, "/jobs/new"));
        Assert.Equal("resnet20", new OpenQA.Selenium.Support.UI.SelectElement(driver.FindElement(By.Id("model"))).SelectedOption.GetAttribute("value"));
        Assert.Equal("1000", driver.FindElement(By.Id("testSubset")).GetAttribute("value"));
        Assert.Equal("4000", driver.FindElement(By.Id("trainSubset")).GetAttribute("value"));
        Assert.Contains(".onnx", driver.FindElement(By.Id("checkpoint-file")).GetAttribute("accept")!.Split(','));
        var testSubset = driver.FindElement(By.Id("testSubset"));
        testSubset.Clear();
        testSubset.SendKeys("-5");
        driver.FindElement(By.CssSelector("#new-job button[type=submit]")).Click();
        var message = new OpenQA.Selenium.Support.UI.WebDriverWait(driver, TimeSpan.FromSeconds(30))
            .Until(d => d.FindElement(By.CssSelector(".field-error[data-for='evaluation.testSubset']")).Text is { Length: > 0 } t ? t : null);
        Assert.Contains("evaluation.testSubset", message);
        Assert.DoesNotContain("TestSubset", message);

        // Paging: more jobs than a page (queued for a device no worker serves), every job reachable, filters as the API's.
        for (var i = 0; i < 50; i++)
        {
            Assert.Equal(HttpStatusCode.Accepted, (await client.PostAsJsonAsync("/api/jobs", new { model = "resnet20", dataset = "synthetic", device = "cuda" })).StatusCode);
        }
        driver.Navigate().GoToUrl(api.Address);
        Assert.Equal(50, driver.FindElements(By.CssSelector("#jobs tbody tr")).Count);
        driver.FindElement(By.CssSelector("#pager a[rel=next]")).Click();
        Assert.Equal(jobs.Select(j => j.Id.ToString()).Order(), driver.FindElements(By.CssSelector("#jobs tbody tr")).Select(r => r.GetAttribute("data-job-id")).Order());
        driver.Navigate().GoToUrl(new Uri(api.Address, "/?device=cpu"));
        Assert.Equal(3, driver.FindElements(By.CssSelector("#jobs tbody tr")).Count);
        Assert.Empty(driver.FindElements(By.CssSelector("#pager a[rel=next]")));
    }

    private static object WithObserver(string observer) => new
    {
        model = "resnet20", dataset = "synthetic",
        training = new { epochs = 1, trainSubset = 64, batchSize = 32 },
        quantization = new { calibrationImages = 32, activationObserver = observer },
        evaluation = new { testSubset = 64, latencyBatchSize = 8, warmupRuns = 1, timedRuns = 3 },
    };

    private static StageResultDto? Selected(JobDto job, PipelineStage stage) =>
        job.Stages.Single(s => s.Stage == stage).Results.FirstOrDefault(r => r.Selected);

    /// <summary>Every stage on the built-in synthetic data in seconds: the quickstart's job, scaled down.</summary>
    private static readonly object LightJob = WithObserver("histogram");

    private static string Style(IWebDriver driver, string css, string property) =>
        Script<string>(driver, "const e = document.querySelector(arguments[0]); return e ? getComputedStyle(e).getPropertyValue(arguments[1]) : 'no ' + arguments[0];", css, property);

    private static T Script<T>(IWebDriver driver, string script, params object[] args) => (T)((IJavaScriptExecutor)driver).ExecuteScript(script, args)!;
}
