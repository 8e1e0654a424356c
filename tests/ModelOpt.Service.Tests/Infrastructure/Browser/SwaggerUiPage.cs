using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;

namespace ModelOpt.Service.Tests.Infrastructure.Browser;

/// <summary>ModelOpt's Swagger UI in a browser; screenshots go to MODELOPT_SCREENSHOT_DIR when it is set (the README's images).</summary>
public sealed class SwaggerUiPage(HeadlessChromium browser, Uri api)
{
    private readonly string? screenshotFolder = Environment.GetEnvironmentVariable("MODELOPT_SCREENSHOT_DIR");

    /// <summary>Loads (or reloads) the page: Swagger UI fetches the OpenAPI document anew, with its current examples.</summary>
    public SwaggerUiPage Open()
    {
        browser.Driver.Navigate().GoToUrl(new Uri(api, "/swagger/index.html"));
        new WebDriverWait(browser.Driver, TimeSpan.FromSeconds(60)).Until(d => d.FindElements(By.CssSelector(".opblock")).Count > 0);
        return this;
    }

    /// <summary>An operation block; Swagger UI gives each the id <c>operations-{tag}-{operationId}</c>.</summary>
    public SwaggerUiOperation Operation(string tag, string operationId) =>
        new(browser.Driver, browser.Driver.FindElement(By.Id($"operations-{tag}-{operationId}")));

    public void Screenshot(string name, SwaggerUiOperation? scrollTo = null)
    {
        if (screenshotFolder is null)
        {
            return;
        }
        scrollTo?.ScrollIntoView();
        Directory.CreateDirectory(screenshotFolder);
        browser.Driver.GetScreenshot().SaveAsFile(Path.Combine(screenshotFolder, name + ".png"));
    }
}
