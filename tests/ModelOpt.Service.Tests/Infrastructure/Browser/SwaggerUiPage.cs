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

    /// <summary>Swagger UI's Authorize button: the key goes into the bearer scheme's dialog and every call sends it from then on.</summary>
    public SwaggerUiPage Authorize(string key)
    {
        var driver = browser.Driver;
        driver.FindElement(By.CssSelector(".auth-wrapper button.authorize")).Click();
        var wait = new WebDriverWait(driver, TimeSpan.FromSeconds(30));
        var dialog = wait.Until(d => d.FindElements(By.CssSelector(".modal-ux")).FirstOrDefault());
        dialog!.FindElement(By.CssSelector("input")).SendKeys(key);
        dialog.FindElement(By.XPath(".//button[normalize-space()='Authorize']")).Click();
        wait.Until(_ => dialog.FindElements(By.XPath(".//button[normalize-space()='Logout']")).Count > 0);
        dialog.FindElement(By.XPath(".//button[normalize-space()='Close']")).Click();
        return this;
    }

    /// <summary>An operation block; Swagger UI gives each the id <c>operations-{tag}-{operationId}</c>.</summary>
    public SwaggerUiOperation Operation(string tag, string operationId) =>
        new(browser.Driver, browser.Driver.FindElement(By.Id($"operations-{tag}-{operationId}")));

    public void Screenshot(string name, SwaggerUiOperation scrollTo) => browser.Screenshot(name, scrollTo.Block);
}
