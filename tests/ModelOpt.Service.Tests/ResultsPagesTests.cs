using System.Globalization;
using ModelOpt.Api.Presentation;
using ModelOpt.Engine.Models;
using ModelOpt.Service.Tests.Infrastructure.Browser;
using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;

namespace ModelOpt.Service.Tests;

/// <summary>
/// The results pages in real headless Chromium over the real engine and PostgreSQL: a job made with the form, followed
/// live, its charts read back against the API's figures, the list, a comparison, the report and a failed job's reason.
/// </summary>
public sealed class ResultsPagesTests : IAsyncLifetime
{
    private static readonly TimeSpan JobTimeout = TimeSpan.FromMinutes(8);
    private TestPostgres db = null!;

    public async Task InitializeAsync() => db = await TestPostgres.CreateAsync();

    public async Task DisposeAsync() => await db.DisposeAsync();

    [SkippableFact]
    public async Task A_job_made_with_the_form_is_followed_live_and_its_page_draws_the_apis_figures()
    {
        using var browser = HeadlessChromium.Start(windowHeight: 1500);
        await using var factory = new ServiceFactory(ServiceFactory.Postgres(db, embeddedWorker: true));
        var api = factory.StartKestrel();
        var client = factory.CreateClient();
        browser.SignIn(api, await factory.CreateKeyAsync(ApiKeyScope.Write));
        var driver = browser.Driver;
        var wait = new WebDriverWait(driver, JobTimeout);

        // The form: upload a PyTorch checkpoint from the page, then an invalid value shows the API's own message.
        driver.Navigate().GoToUrl(new Uri(api, "/jobs/new"));
        new SelectElement(driver.FindElement(By.Id("model"))).SelectByValue(ModelZoo.ResNet20);
        driver.FindElement(By.Id("checkpoint-file")).SendKeys(Path.Combine(AppContext.BaseDirectory, "TestData", "resnet20_1ch_random.pth"));
        driver.FindElement(By.Id("upload-checkpoint")).Click();
        wait.Until(d => d.FindElement(By.Id("upload-status")).Text.StartsWith("stored", StringComparison.Ordinal));
        var checkpoint = (await client.GetFromJsonAsync<PagedResult<CheckpointDto>>("/api/checkpoints", ApiClient.Json))!.Items.Single();
        Assert.Equal(checkpoint.Id.ToString(), new SelectElement(driver.FindElement(By.Id("checkpointId"))).SelectedOption.GetAttribute("value"));

        SetNumber(driver, "calibrationImages", "0");
        SetNumber(driver, "testSubset", "200");
        driver.FindElement(By.CssSelector("#new-job button[type=submit]")).Click();
        var shown = wait.Until(d => d.FindElement(By.CssSelector(".field-error[data-for='quantization.calibrationImages']")).Text is { Length: > 0 } t ? t : null);
        var refused = await client.PostAsJsonAsync("/api/jobs", new
        {
            model = ModelZoo.ResNet20, dataset = "fashion-mnist", checkpointId = checkpoint.Id,
            quantization = new { activationObserver = "histogram", calibrationImages = 0 }, evaluation = new { testSubset = 200 },
        });
        var problem = await refused.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(problem.GetProperty("errors").GetProperty("quantization.calibrationImages")[0].GetString(), shown);
        browser.Screenshot("page-new-job-validation");

        SetNumber(driver, "calibrationImages", "64");
        driver.FindElement(By.CssSelector("#new-job button[type=submit]")).Click();
        wait.Until(d => d.Url.Contains("/jobs/0", StringComparison.Ordinal) && !d.Url.EndsWith("/new", StringComparison.Ordinal));
        var jobId = Guid.Parse(driver.Url.Split('/')[^1]);

        // Followed live: the page reloads itself as stages complete, until the job has succeeded.
        wait.Until(d => TextOf(d, "#job-status") is "Succeeded" or "Failed");
        var job = await client.GetJobAsync(jobId);
        Assert.True(job.Status == JobStatus.Succeeded, job.Error);
        Assert.Equal(200, job.Stages.First(s => s.Results.Count > 0).Results[0].ImagesScored);

        // The charts draw exactly the API's figures, one bar per measured form, the std as error bars.
        var forms = MeasuredForm.Of(job);
        Assert.True(forms.Count >= 3, $"only {forms.Count} forms");
        // Compile forms whose score could not change the choice are not scored (issue 28): no accuracy bar or point.
        var scored = forms.Where(f => f.Result.Accuracy is not null).ToList();
        Assert.True(scored.Count >= 2, $"only {scored.Count} scored forms");
        AssertBars(driver, "chart-accuracy", scored.Select(f => (f.Label, f.Result.Accuracy!.Value)));
        AssertBars(driver, "chart-size", forms.Select(f => (f.Label, f.Result.SizeMb)));
        AssertBars(driver, "chart-latency", forms.Select(f => (f.Label, f.Result.LatencyMeanMs)));
        var spreads = driver.FindElements(By.CssSelector("#chart-latency .error-bar")).ToDictionary(e => e.GetAttribute("data-label")!, e => Parse(e.GetAttribute("data-spread")));
        foreach (var form in forms.Where(f => f.Result.LatencyStdMs > 0))
        {
            Assert.Equal(form.Result.LatencyStdMs, spreads[form.Label], 9);
        }
        var points = driver.FindElements(By.CssSelector("#chart-scatter circle.point"));
        Assert.Equal(scored.Count, points.Count);
        Assert.Equal(scored.Select(f => f.Result.LatencyMeanMs), points.Select(p => Parse(p.GetAttribute("data-x"))));
        Assert.Equal(scored.Select(f => f.Result.Accuracy!.Value), points.Select(p => Parse(p.GetAttribute("data-y"))));
        Assert.Equal(forms.Count(f => f.Rejected), driver.FindElements(By.CssSelector("#results tr.rejected")).Count);
        // Unscored forms show no image count, and forms scored on the same images raise no "different images" warning.
        Assert.Equal(forms.Select(f => Format.ImagesScored(f.Result.ImagesScored)), driver.FindElements(By.CssSelector("#results td.images")).Select(c => c.Text));
        Assert.Contains(forms, f => f.Result.ImagesScored == 0);
        Assert.Empty(driver.FindElements(By.Id("mixed-images")));
        Assert.All(job.Artifacts, a => Assert.Contains(a.Sha256, driver.FindElement(By.Id("artifacts")).Text));
        var layers = (await client.GetFromJsonAsync<List<JobLayerDto>>($"/api/jobs/{jobId}/layers", ApiClient.Json))!;
        Assert.NotEmpty(layers);
        AssertBars(driver, "chart-layers", layers.Select(l => (l.Layer, l.SqnrDb)));
        Assert.Equal(layers.Select(l => l.Layer), driver.FindElements(By.CssSelector("#layers tbody tr")).Select(r => r.GetAttribute("data-layer")));
        // A job from a checkpoint did not train: no training section among its settings.
        Assert.Empty(driver.FindElements(By.CssSelector("#settings dl[data-section='training']")));
        Assert.Single(driver.FindElements(By.CssSelector("#settings dl[data-section='quantization']")));
        browser.Screenshot("page-job-layers", driver.FindElement(By.Id("chart-layers")));

        // The list shows the finished job with its headline figures as the API states them.
        driver.Navigate().GoToUrl(api);
        var row = driver.FindElement(By.CssSelector($"#jobs tr[data-job-id='{jobId}']"));
        Assert.Equal("Succeeded", row.FindElement(By.CssSelector(".badge")).Text);
        var headline = job.Headline!;
        Assert.Equal($"{Format.Percent(headline.Fp32Accuracy)} → {Format.Percent(headline.DeliveredAccuracy)} ({headline.ImagesScored} images)",
            row.FindElement(By.CssSelector(".accuracy")).Text);
        Assert.Equal($"{Format.Ratio(headline.SpeedUpOverFastestFp32)} ({headline.FastestFp32Backend})", row.FindElement(By.CssSelector(".speedup")).Text);
        Assert.Equal(Format.Ratio(headline.SpeedUp), row.FindElement(By.CssSelector(".speedup-eager")).Text);

        // A second job of the same checkpoint with another observer, followed live on the list, then compared.
        var other = await client.SubmitAsync(new
        {
            model = ModelZoo.ResNet20, dataset = "fashion-mnist", checkpointId = checkpoint.Id,
            quantization = new { activationObserver = "minmax", calibrationImages = 64 },
            evaluation = new { testSubset = 200, latencyBatchSize = 32, warmupRuns = 1, timedRuns = 3 },
        });
        driver.Navigate().GoToUrl(api);
        wait.Until(d => TextOf(d, $"#jobs tr[data-job-id='{other.Id}'] .badge") is "Succeeded" or "Failed");
        Assert.Equal(JobStatus.Succeeded, (await client.GetJobAsync(other.Id)).Status);

        foreach (var id in new[] { jobId, other.Id })
        {
            driver.FindElement(By.CssSelector($"#jobs tr[data-job-id='{id}'] input[name=ids]")).Click();
        }
        driver.FindElement(By.CssSelector("#jobs + button[type=submit]")).Click();
        wait.Until(d => d.Url.Contains("/compare", StringComparison.Ordinal));
        Assert.Equal(2, driver.FindElements(By.CssSelector("#comparison tbody tr")).Count);
        var otherScored = MeasuredForm.Of(await client.GetJobAsync(other.Id)).Count(f => f.Result.Accuracy is not null);
        Assert.Equal(scored.Count + otherScored, driver.FindElements(By.CssSelector("#chart-compare circle.point")).Count);
        Assert.Equal(["histogram", "minmax"], driver.FindElements(By.CssSelector("#comparison tbody tr td:nth-child(5)")).Select(c => c.Text).Order());

        // The report carries the same figures.
        var report = await client.GetAsync($"/api/jobs/{jobId}/report");
        Assert.Equal("text/markdown", report.Content.Headers.ContentType?.MediaType);
        var markdown = await report.Content.ReadAsStringAsync();
        Assert.All(forms, f => Assert.Contains($"{Format.Percent(f.Result.Accuracy)} | {Format.ImagesScored(f.Result.ImagesScored)} | {Format.LatencyWithSpread(f.Result.LatencyMeanMs, f.Result.LatencyStdMs)}", markdown));
        Assert.All(job.Artifacts, a => Assert.Contains(a.Sha256, markdown));
        Assert.Contains(JobReportWriter.HeadlineText(headline), markdown);

        // The checkpoint deleted, the job page says so instead of naming an empty id.
        Assert.Equal(HttpStatusCode.NoContent, (await client.DeleteAsync($"/api/checkpoints/{checkpoint.Id}")).StatusCode);
        driver.Navigate().GoToUrl(new Uri(api, $"/jobs/{jobId}"));
        var summary = driver.FindElement(By.CssSelector("p.summary")).Text;
        Assert.Contains("from a checkpoint since deleted", summary);
        Assert.DoesNotContain("checkpoint ,", summary);
    }

    [SkippableFact]
    public async Task A_failed_job_shows_its_reason_and_offers_a_retry()
    {
        using var browser = HeadlessChromium.Start();
        var settings = ServiceFactory.Postgres(db, embeddedWorker: true);
        settings["ModelOpt:Datasets:AllowedDataRoots:0"] = "/nonexistent";
        await using var factory = new ServiceFactory(settings);
        var api = factory.StartKestrel();
        var client = factory.CreateClient();
        browser.SignIn(api, await factory.CreateKeyAsync(ApiKeyScope.Write));
        var job = await client.SubmitAsync(new
        {
            model = ModelZoo.ResNet20, dataset = "fashion-mnist", dataPath = "/nonexistent/fashion-mnist",
            training = new { epochs = 1, trainSubset = 100 }, evaluation = new { testSubset = 50 },
        });
        job = await client.WaitForFinishAsync(job.Id, JobTimeout);
        Assert.Equal(JobStatus.Failed, job.Status);

        browser.Driver.Navigate().GoToUrl(new Uri(api, $"/jobs/{job.Id}"));
        Assert.Equal("Failed", browser.Driver.FindElement(By.Id("job-status")).Text);
        Assert.Contains(job.Error!, browser.Driver.FindElement(By.Id("job-error")).Text);
        Assert.Single(browser.Driver.FindElements(By.CssSelector("button[data-action=retry]")));
        Assert.Empty(browser.Driver.FindElements(By.CssSelector("button[data-action=cancel]")));
        browser.Screenshot("page-job-failed");
    }

    /// <summary>Reads an element's text in one script call: safe while the page reloads itself.</summary>
    private static string? TextOf(IWebDriver driver, string css) =>
        ((IJavaScriptExecutor)driver).ExecuteScript("return document.querySelector(arguments[0])?.textContent?.trim() ?? null;", css) as string;

    private static void SetNumber(IWebDriver driver, string id, string value)
    {
        var input = driver.FindElement(By.Id(id));
        input.Clear();
        input.SendKeys(value);
    }

    private static void AssertBars(IWebDriver driver, string chart, IEnumerable<(string Label, double Value)> expected)
    {
        var bars = driver.FindElements(By.CssSelector($"#{chart} rect.bar")).Select(b => (b.GetAttribute("data-label")!, Parse(b.GetAttribute("data-value")))).ToList();
        Assert.Equal(expected.ToList(), bars);
    }

    private static double Parse(string? text) => double.Parse(text!, CultureInfo.InvariantCulture);
}
