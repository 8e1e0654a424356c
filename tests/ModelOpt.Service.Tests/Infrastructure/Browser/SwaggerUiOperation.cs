using System.Text.Json;
using OpenQA.Selenium;
using OpenQA.Selenium.Support.UI;

namespace ModelOpt.Service.Tests.Infrastructure.Browser;

/// <summary>One operation block of Swagger UI, driven as a person does: expand, "Try it out", fill in, "Execute", read the answer.</summary>
public sealed class SwaggerUiOperation(IWebDriver driver, IWebElement block)
{
    private static readonly TimeSpan ResponseTimeout = TimeSpan.FromSeconds(60);
    private const string StatusCell = ".live-responses-table tr.response .response-col_status";

    public IWebElement Block => block;

    public SwaggerUiOperation TryItOut()
    {
        ScrollIntoView();
        if (!block.GetAttribute("class")!.Contains("is-open", StringComparison.Ordinal))
        {
            block.FindElement(By.CssSelector(".opblock-summary-control")).Click();
        }
        var button = Wait().Until(_ => block.FindElements(By.CssSelector("button.try-out__btn")).FirstOrDefault(b => b.Displayed));
        if (button!.Text.Contains("Try it out", StringComparison.Ordinal))
        {
            button.Click();
        }
        return this;
    }

    /// <summary>The value Swagger UI pre-filled into a path or query parameter.</summary>
    public string Parameter(string name) => ParameterInput(name).GetAttribute("value") ?? "";

    public SwaggerUiOperation SetParameter(string name, string value)
    {
        var input = ParameterInput(name);
        input.Clear();
        input.SendKeys(value);
        return this;
    }

    public SwaggerUiOperation SetFormFile(string part, string path)
    {
        FormRow(part).FindElement(By.CssSelector("input[type=file]")).SendKeys(path);
        return this;
    }

    public SwaggerUiOperation SetFormField(string part, string value)
    {
        var input = FormRow(part).FindElement(By.CssSelector("input[type=text], input:not([type])"));
        input.Clear();
        input.SendKeys(value);
        return this;
    }

    /// <summary>The JSON request body in the editor (the selected example, as Swagger UI pre-fills it).</summary>
    public string Body => BodyEditor().GetAttribute("value") ?? "";

    public SwaggerUiOperation SetBody(string json)
    {
        var editor = BodyEditor();
        editor.Clear();
        editor.SendKeys(json);
        return this;
    }

    /// <summary>Clicks "Execute" and waits for the live response; returns its status code. A previous response is cleared first.</summary>
    public int Execute()
    {
        if (block.FindElements(By.CssSelector("button.btn-clear")).FirstOrDefault() is { } clear)
        {
            clear.Click();
            Wait().Until(d => block.FindElements(By.CssSelector(StatusCell)).Count == 0);
        }
        block.FindElement(By.CssSelector("button.execute")).Click();
        var status = Wait().Until(d =>
            block.FindElements(By.CssSelector(StatusCell)).FirstOrDefault()?.Text.Trim() is { Length: > 0 } text && text.All(char.IsAsciiDigit)
                ? text
                : null);
        return int.Parse(status!, System.Globalization.CultureInfo.InvariantCulture);
    }

    public string ResponseText => block.FindElement(By.CssSelector(".live-responses-table tr.response .response-col_description pre")).Text;

    public JsonElement ResponseJson => JsonDocument.Parse(ResponseText).RootElement;

    /// <summary>The curl line Swagger UI shows for the request it sent.</summary>
    public string Curl => block.FindElement(By.CssSelector(".curl-command")).Text;

    /// <summary>The "Download file" link Swagger UI offers for a file response.</summary>
    public IWebElement DownloadLink => Wait().Until(_ => block.FindElements(By.CssSelector(".live-responses-table a[download]")).FirstOrDefault())!;

    private void ScrollIntoView() => ((IJavaScriptExecutor)driver).ExecuteScript("arguments[0].scrollIntoView({block: 'start'});", block);

    private IWebElement ParameterInput(string name) =>
        Wait().Until(_ => block.FindElements(By.CssSelector($"tr[data-param-name='{name}'] input")).FirstOrDefault())!;

    private IWebElement FormRow(string part) =>
        Wait().Until(_ => block.FindElements(By.CssSelector($"tr[data-property-name='{part}']")).FirstOrDefault())!;

    private IWebElement BodyEditor() => Wait().Until(_ => block.FindElements(By.CssSelector("textarea.body-param__text")).FirstOrDefault())!;

    private WebDriverWait Wait() => new(driver, ResponseTimeout);
}
