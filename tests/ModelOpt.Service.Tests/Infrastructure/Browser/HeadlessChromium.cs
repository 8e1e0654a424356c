using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace ModelOpt.Service.Tests.Infrastructure.Browser;

/// <summary>
/// Debian's Chromium driven by Debian's chromedriver through Selenium, at the 1 400 px width of the README's screenshots.
/// Files the page downloads land in <see cref="DownloadFolder"/>.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    public const int WindowWidth = 1400;
    private const string Chromium = "/usr/bin/chromium";
    private const string ChromeDriver = "/usr/bin/chromedriver";

    private HeadlessChromium(ChromeDriver driver, string downloadFolder)
    {
        Driver = driver;
        DownloadFolder = downloadFolder;
    }

    public ChromeDriver Driver { get; }

    public string DownloadFolder { get; }

    /// <summary>Skips the test where the browser is missing, except under CI, where test.sh installs it and its absence is a failure.</summary>
    public static HeadlessChromium Start(int windowHeight = 1000)
    {
        var missing = new[] { Chromium, ChromeDriver }.Where(p => !File.Exists(p)).ToList();
        var reason = $"{string.Join(" and ", missing)} missing: apt-get install -y chromium chromium-driver (scripts/test.sh does).";
        Assert.False(missing.Count > 0 && string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase), reason);
        Skip.If(missing.Count > 0, reason);

        var downloads = Directory.CreateTempSubdirectory("modelopt-downloads-").FullName;
        var options = new ChromeOptions { BinaryLocation = Chromium };
        options.AddArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync", $"--window-size={WindowWidth},{windowHeight}");
        options.AddUserProfilePreference("download.default_directory", downloads);
        options.AddUserProfilePreference("download.prompt_for_download", false);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(ChromeDriver)!, Path.GetFileName(ChromeDriver));
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(90));
        driver.ExecuteCdpCommand("Browser.setDownloadBehavior", new Dictionary<string, object?> { ["behavior"] = "allow", ["downloadPath"] = downloads });
        return new HeadlessChromium(driver, downloads);
    }

    /// <summary>Waits for a finished download (Chromium writes <c>.crdownload</c> until it is complete).</summary>
    public async Task<string> WaitForDownloadAsync(string fileName, TimeSpan timeout)
    {
        var path = Path.Combine(DownloadFolder, fileName);
        var deadline = DateTime.UtcNow + timeout;
        while (!File.Exists(path) || Directory.EnumerateFiles(DownloadFolder, "*.crdownload").Any())
        {
            Assert.True(DateTime.UtcNow < deadline,
                $"{fileName} was not downloaded in {timeout}; the folder holds: {string.Join(", ", Directory.EnumerateFiles(DownloadFolder).Select(Path.GetFileName))}");
            await Task.Delay(200);
        }
        return path;
    }

    /// <summary>Saves the window as MODELOPT_SCREENSHOT_DIR/<paramref name="name"/>.png when that variable is set (the README's images).</summary>
    /// <summary>Opens the site once with an API key in the address: the API keeps it in a cookie for the pages' requests.</summary>
    public void SignIn(Uri api, string key) => Driver.Navigate().GoToUrl(new Uri(api, $"/?api_key={Uri.EscapeDataString(key)}"));

    public void Screenshot(string name, IWebElement? scrollTo = null)
    {
        if (Environment.GetEnvironmentVariable("MODELOPT_SCREENSHOT_DIR") is not { Length: > 0 } folder)
        {
            return;
        }
        if (scrollTo is not null)
        {
            Driver.ExecuteScript("arguments[0].scrollIntoView({block: 'start'});", scrollTo);
        }
        Directory.CreateDirectory(folder);
        Driver.GetScreenshot().SaveAsFile(Path.Combine(folder, name + ".png"));
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        Directory.Delete(DownloadFolder, recursive: true);
    }
}
