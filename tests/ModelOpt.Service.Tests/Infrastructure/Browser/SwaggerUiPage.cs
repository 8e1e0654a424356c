using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;

namespace ModelOpt.Service.Tests.Infrastructure.Browser;

/// <summary>ModelOpt's Swagger UI in a browser.</summary>
public sealed class SwaggerUiPage(HeadlessChromium browser, Uri api)
{
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

    public void Screenshot(string name, SwaggerUiOperation scrollTo) => browser.Screenshot(name, scrollTo.Block);
}
