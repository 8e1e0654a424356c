using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using AngleSharp.Dom;
using AngleSharp.Html.Parser;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Kiota.Abstractions.Authentication;
using Microsoft.Kiota.Http.HttpClientLibrary;
using ModelOpt.Engine.Evaluation;
using ModelOpt.Engine.Pipeline;
using ModelOpt.Jobs.Infrastructure;
using Gen = ModelOpt.Client;
using Kiota = ModelOpt.Client.Kiota;

namespace ModelOpt.Service.Tests;

/// <summary>
/// What a user sees of a generic job's fidelity to FP32 (issue 23 item 3): a finished job's rows written straight into the
/// database (no job runs), then its page, the jobs list, the Markdown report, /compare and the generated clients read back
/// against the stored figures, +∞ SQNR (identical outputs) included.
/// </summary>
public sealed class FidelityPagesTests : IAsyncLifetime
{
    private const string Mask = "mask";
    private const string Logits = "logits";

    // The stored figures: two outputs, one with a class axis; the FP32 form of ONNX Runtime identical to the eager one (+∞).
    private static readonly List<OutputFidelity> Int8 =
    [
        new(Mask, 48, 31.4159, 0.999312, 0.0123, 0.25),
        new(Logits, 48, 18.25, 0.9871, 0.0456, 1.5, ClassAxis: -1, ArgmaxAgreement: 0.9725),
    ];

    private static readonly List<OutputFidelity> Qdq =
    [
        new(Mask, 48, 29.876, 0.99902, 0.0151, 0.3125),
        new(Logits, 48, 17.5, 0.9822, 0.0512, 1.75, ClassAxis: -1, ArgmaxAgreement: 0.965),
    ];

    private static readonly List<OutputFidelity> OnnxFp32 =
    [
        new(Mask, 48, double.PositiveInfinity, 1, 0, 0),
        new(Logits, 48, double.PositiveInfinity, 1, 0, 0, ClassAxis: -1, ArgmaxAgreement: 1),
    ];

    private ServiceFactory factory = null!;

    public Task InitializeAsync()
    {
        factory = new ServiceFactory(ServiceFactory.Sqlite(embeddedWorker: false));
        return Task.CompletedTask;
    }

    public Task DisposeAsync() => factory.DisposeAsync().AsTask();

    [Fact]
    public async Task A_generic_jobs_page_list_report_and_comparison_show_the_stored_fidelity_instead_of_top1()
    {
        var generic = await InsertFinishedJobAsync(generic: true);
        var classifier = await InsertFinishedJobAsync(generic: false);
        var client = factory.CreateClient();

        // The job page: fidelity columns instead of top-1, one line per output, +∞ in words and as "Infinity" in the data.
        var page = await PageAsync(client, $"/jobs/{generic}");
        var headers = page.QuerySelectorAll("#results th").Select(h => h.TextContent).ToList();
        Assert.DoesNotContain("Accuracy", headers);
        Assert.Equal(["Output", "SQNR", "Cosine", "Mean |Δ|", "Max |Δ|", "Arg-max agreement"], headers.Skip(4).Take(6));
        AssertOutputs(page, "Convert: libtorch-int8-x86", Int8);
        AssertOutputs(page, "Compile: onnxruntime-int8-qdq", Qdq);
        AssertOutputs(page, "Compile: onnxruntime-fp32", OnnxFp32);
        var int8Row = Row(page, "Convert: libtorch-int8-x86");
        Assert.Equal(["31.42 dB", "18.25 dB"], int8Row.QuerySelectorAll("td.sqnr div").Select(d => d.TextContent));
        Assert.Equal(["0.999312", "0.987100"], int8Row.QuerySelectorAll("td.cosine div").Select(d => d.TextContent));
        Assert.Equal(["1.5"], int8Row.QuerySelectorAll("td.max-abs-error div[data-output=logits]").Select(d => d.TextContent));
        Assert.Equal(["—", "97.25 %"], int8Row.QuerySelectorAll("td.agreement div").Select(d => d.TextContent));
        Assert.Equal(["∞ (identical)", "∞ (identical)"], Row(page, "Compile: onnxruntime-fp32").QuerySelectorAll("td.sqnr div").Select(d => d.TextContent));
        Assert.Equal("reference", Row(page, "EvaluateFp32: torchsharp-fp32-eager").QuerySelector("td.output")!.TextContent.Trim());

        // The headline: the delivered (QDQ) form's SQNR and agreement per output, the converted model's beside them.
        var headline = page.QuerySelector("#headline-fidelity")!;
        Assert.Equal(["29.88 dB", "17.50 dB"], headline.QuerySelectorAll("[data-figure=delivered-sqnr]").Select(e => e.TextContent));
        Assert.Equal(["96.50 %"], headline.QuerySelectorAll("[data-figure=delivered-agreement]").Select(e => e.TextContent));
        Assert.Equal(["31.42 dB", "18.25 dB"], headline.QuerySelectorAll("[data-figure=int8-sqnr]").Select(e => e.TextContent));
        Assert.Equal(["97.25 %"], headline.QuerySelectorAll("[data-figure=int8-agreement]").Select(e => e.TextContent));
        Assert.Equal("Fidelity to FP32 (definitions) on the same 48 evaluation images: output mask: delivered SQNR 29.88 dB (converted int8 SQNR 31.42 dB); "
                     + "output logits: delivered SQNR 17.50 dB, arg-max agreement 96.50 % (converted int8 SQNR 18.25 dB, arg-max agreement 97.25 %).",
            Regex.Replace(headline.TextContent, @"\s+", " ").Trim());
        Assert.Empty(page.QuerySelectorAll("[data-figure=delivered-accuracy], #chart-accuracy, #chart-scatter"));
        Assert.Equal(["SQNR", "Cosine", "Mean |Δ|", "Max |Δ|", "Arg-max agreement"], page.QuerySelectorAll("#fidelity-definitions dt").Select(d => d.TextContent));

        // The charts draw the stored figures: one bar per form and output, +∞ as a full bar, and SQNR against latency.
        var sqnrBars = Bars(page, "chart-sqnr");
        Assert.Equal(31.4159, sqnrBars["Convert: libtorch-int8-x86 · mask"]);
        Assert.Equal(17.5, sqnrBars["Compile: onnxruntime-int8-qdq · logits"]);
        Assert.Equal(double.PositiveInfinity, sqnrBars["Compile: onnxruntime-fp32 · mask"]);
        Assert.Equal(6, sqnrBars.Count);
        Assert.Equal("∞ (identical)", page.QuerySelector("#chart-sqnr rect.unbounded[data-label='Compile: onnxruntime-fp32 · mask'] title")!.TextContent.Split(": ")[^1]);
        var agreementBars = Bars(page, "chart-agreement");
        Assert.Equal(3, agreementBars.Count);
        Assert.Equal(0.9725, agreementBars["Convert: libtorch-int8-x86 · logits"]);
        var points = page.QuerySelectorAll("#chart-sqnr-scatter circle.point")
            .ToDictionary(p => p.GetAttribute("data-label")!, p => (X: Parse(p.GetAttribute("data-x")), Y: Parse(p.GetAttribute("data-y"))));
        Assert.Equal((4.5, 29.876), points["Compile: onnxruntime-int8-qdq · mask"]);
        Assert.Equal((12.5, double.PositiveInfinity), points["Compile: onnxruntime-fp32 · logits"]);
        Assert.Equal(2, page.QuerySelectorAll("#chart-sqnr-scatter circle.point.unbounded").Length);

        // The jobs list: the delivered form's least faithful output instead of top-1.
        var list = await PageAsync(client, "/");
        Assert.Equal("SQNR 17.50 dB, arg-max agreement 96.50 % (lowest of 2 outputs: logits) (48 images)",
            list.QuerySelector($"tr[data-job-id='{generic}'] td.accuracy")!.TextContent);
        Assert.Equal("90.00 % → 89.50 % (48 images)", list.QuerySelector($"tr[data-job-id='{classifier}'] td.accuracy")!.TextContent);

        // The Markdown report: the same figures, per output in a cell, the definitions under the table.
        var report = await client.GetStringAsync($"/api/jobs/{generic}/report");
        Assert.Contains("Fidelity to FP32 on the same 48 evaluation images: output mask: delivered SQNR 29.88 dB, cosine 0.999020 (converted int8 SQNR 31.42 dB, "
                        + "cosine 0.999312); output logits: delivered SQNR 17.50 dB, cosine 0.982200, arg-max agreement 96.50 % (converted int8 SQNR 18.25 dB, "
                        + "cosine 0.987100, arg-max agreement 97.25 %).", report);
        Assert.Contains("| Convert | libtorch-int8-x86 | cpu | 1.00 MB | mask, logits | mask: 31.42 dB; logits: 18.25 dB | mask: 0.999312; logits: 0.987100 "
                        + "| mask: 0.0123; logits: 0.0456 | mask: 0.25; logits: 1.5 | mask: —; logits: 97.25 % | 48 |", report);
        Assert.Contains("| Compile | onnxruntime-fp32 | cpu | 4.00 MB | mask, logits | mask: ∞ (identical); logits: ∞ (identical) |", report);
        Assert.Contains("| EvaluateFp32 | torchsharp-fp32-eager | cpu | 4.00 MB | reference | — | — | — | — | — | 48 |", report);
        Assert.Contains("- **Arg-max agreement**: ", report);
        Assert.DoesNotContain("| accuracy |", report);

        // /compare: each job's own measure, the generic one flagged as not comparable with the classifier, SQNR drawn.
        var compare = await PageAsync(client, $"/compare?ids={classifier},{generic}");
        Assert.NotNull(compare.QuerySelector("#different-measures"));
        var genericRow = compare.QuerySelector($"tr[data-job-id='{generic}']")!;
        Assert.Contains("different-measure", genericRow.ClassList);
        Assert.Equal("⚠ fidelity to FP32 (mask, logits)", genericRow.QuerySelector("td.measure")!.TextContent);
        Assert.Equal("SQNR 17.50 dB, arg-max agreement 96.50 % (lowest of 2 outputs: logits)", genericRow.QuerySelector("td.accuracy")!.TextContent);
        Assert.Equal("top-1", compare.QuerySelector($"tr[data-job-id='{classifier}'] td.measure")!.TextContent);
        Assert.Equal(4, compare.QuerySelectorAll("#chart-compare circle.point").Length);
        Assert.Equal(6, compare.QuerySelectorAll("#chart-compare-sqnr circle.point").Length);

        // GET /api/jobs/compare says the same as the page.
        var compared = (await client.GetFromJsonAsync<List<JobComparisonDto>>($"/api/jobs/compare?ids={classifier},{generic}", ApiClient.Json))!;
        Assert.Equal([("top-1", false), ("fidelity to FP32 (mask, logits)", true)], compared.Select(c => (c.MeasuredBy, c.MeasuredOtherwise)));
        Assert.Equal(Qdq.Select(f => f.MeanAbsError), compared[1].Headline!.DeliveredFidelity!.Select(f => f.MeanAbsError!.Value));

        // A classifier's page keeps top-1 and shows no fidelity.
        var classifierPage = await PageAsync(client, $"/jobs/{classifier}");
        Assert.Equal("89.50 %", classifierPage.QuerySelector("[data-figure=delivered-accuracy]")!.TextContent);
        Assert.Empty(classifierPage.QuerySelectorAll("#headline-fidelity, #chart-sqnr, #fidelity-definitions, #results td.sqnr"));
    }

    [Fact]
    public async Task Identical_outputs_reach_the_generated_clients_as_a_null_sqnr_marked_identical()
    {
        var id = await InsertFinishedJobAsync(generic: true);

        // The wire: JSON has no infinity, so +∞ is sqnrDb null with identical true; finite figures are the stored numbers.
        using var json = JsonDocument.Parse(await factory.CreateClient().GetStringAsync($"/api/jobs/{id}"));
        var compile = json.RootElement.GetProperty("stages").EnumerateArray().Single(s => s.GetProperty("stage").GetString() == "Compile");
        var onnxFp32 = compile.GetProperty("results").EnumerateArray().Single(r => r.GetProperty("backend").GetString() == "onnxruntime-fp32");
        var mask = onnxFp32.GetProperty("fidelity")[0];
        Assert.Equal(JsonValueKind.Null, mask.GetProperty("sqnrDb").ValueKind);
        Assert.True(mask.GetProperty("identical").GetBoolean());

        var nswag = await new Gen.ModelOptClient(factory.CreateClient()).GetJobAsync(id);
        var nswagFidelity = nswag.Stages.Single(s => s.Stage == Gen.PipelineStage.Compile).Results.Single(r => r.Backend == "onnxruntime-fp32").Fidelity!.ToList();
        Assert.Equal([Mask, Logits], nswagFidelity.Select(f => f.Output));
        Assert.All(nswagFidelity, f => Assert.True(f.SqnrDb is null && f.Identical && f.CosineSimilarity == 1 && f.MaxAbsError == 0));
        Assert.Equal(Qdq.Select(f => (double?)f.SqnrDb), nswag.Headline!.DeliveredFidelity!.Select(f => f.SqnrDb));
        Assert.Equal(Int8.Select(f => f.ArgmaxAgreement), nswag.Headline.Int8Fidelity!.Select(f => f.ArgmaxAgreement));
        Assert.All(nswag.Headline.DeliveredFidelity!, f => Assert.False(f.Identical));
        Assert.Null(nswag.Headline.DeliveredAccuracy);

        var http = factory.CreateClient();
        var kiota = new Kiota.ModelOptKiotaClient(new HttpClientRequestAdapter(new AnonymousAuthenticationProvider(), httpClient: http)
        {
            BaseUrl = http.BaseAddress!.ToString().TrimEnd('/'),
        });
        var viaKiota = (await kiota.Api.Jobs[id].GetAsync())!;
        var kiotaFidelity = viaKiota.Stages!.Single(s => s.Stage == Kiota.Models.PipelineStage.Compile).Results!.Single(r => r.Backend == "onnxruntime-fp32").Fidelity!;
        Assert.Equal(2, kiotaFidelity.Count);
        Assert.All(kiotaFidelity, f => Assert.True(f.SqnrDb is null && f.Identical == true && f.CosineSimilarity == 1));
        Assert.Equal(Qdq.Select(f => (double?)f.SqnrDb), viaKiota.Headline!.DeliveredFidelity!.Select(f => f.SqnrDb));
        Assert.Equal(Qdq.Select(f => (double?)f.MaxAbsError), viaKiota.Headline.DeliveredFidelity!.Select(f => f.MaxAbsError));
    }

    [Fact]
    public async Task A_delivered_form_slower_than_an_fp32_form_is_called_out_with_the_file_to_deploy_for_speed()
    {
        var slower = await InsertFinishedJobAsync(generic: true, qdqLatencyMs: 14.0, onnxFp32LatencyMs: 10.0);
        var faster = await InsertFinishedJobAsync(generic: true);
        var client = factory.CreateClient();

        var warning = (await PageAsync(client, $"/jobs/{slower}")).QuerySelector("#slower-than-fp32")?.TextContent;
        Assert.Equal("The delivered int8 model ran at 0.71× the speed of onnxruntime-fp32 on this worker: it is smaller (0.25 of FP32), " +
                     "not faster. Where speed matters more than size, deploy model-fp32.onnx (onnxruntime-fp32) instead.", warning);
        Assert.Contains($"**{warning}**", await client.GetStringAsync($"/api/jobs/{slower}/report"));
        Assert.Null((await PageAsync(client, $"/jobs/{faster}")).QuerySelector("#slower-than-fp32"));
        Assert.DoesNotContain("not faster", await client.GetStringAsync($"/api/jobs/{faster}/report"));
    }

    /// <summary>A finished job as the recorder leaves one: FP32, convert and three compile candidates (QDQ delivered).</summary>
    private async Task<Guid> InsertFinishedJobAsync(bool generic, double qdqLatencyMs = 4.5, double onnxFp32LatencyMs = 12.5)
    {
        var id = Guid.CreateVersion7();
        var now = DateTime.UtcNow;
        var ordinal = 0;
        StageResult Form(PipelineStage stage, string backend, long megabytes, double? accuracy, double latencyMs, bool selected, List<OutputFidelity>? fidelity,
            string? note = null) => new()
        {
            JobId = id, Stage = stage, Ordinal = ordinal++, Backend = backend, Device = "cpu", SizeBytes = megabytes * 1_000_000,
            Accuracy = generic ? null : accuracy, ImagesScored = 48, LatencyMeanMs = latencyMs, LatencyStdMs = 0.25, BatchSize = 8, Selected = selected,
            Note = note, Fidelity = generic ? fidelity : null,
        };
        var job = new OptimizationJob
        {
            Id = id, Status = JobStatus.Succeeded, Model = "resnet20", Dataset = "synthetic", Device = "cpu", Queue = "cpu", Spec = new JobSpec(),
            CreatedAt = now.AddMinutes(-2), StartedAt = now.AddMinutes(-2), FinishedAt = now, Progress = 100,
            Stages = [.. new[] { PipelineStage.EvaluateFp32, PipelineStage.Calibrate, PipelineStage.Convert, PipelineStage.Compile }.Select(stage => new JobStage
            {
                JobId = id, Stage = stage, StartedAt = now.AddMinutes(-1), CompletedAt = now, DurationMs = 1000, Attempt = 1, CpuModel = "Test CPU",
            })],
            Results =
            [
                Form(PipelineStage.EvaluateFp32, "torchsharp-fp32-eager", 4, 0.90, 12.0, true, null),
                Form(PipelineStage.Convert, "libtorch-int8-x86", 1, 0.895, 6.0, true, Int8),
                Form(PipelineStage.Compile, "onnxruntime-fp32", 4, 0.90, onnxFp32LatencyMs, false, OnnxFp32, "FP32 baseline"),
                Form(PipelineStage.Compile, "onnxruntime-int8-qdq", 1, 0.895, qdqLatencyMs, true, Qdq),
            ],
        };
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<ModelOptDbContext>();
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return id;
    }

    /// <summary>Every output's SQNR cell carries the stored SQNR exactly (+∞ as "Infinity").</summary>
    private static void AssertOutputs(IDocument page, string form, List<OutputFidelity> stored)
    {
        var cells = Row(page, form).QuerySelectorAll("td.sqnr div");
        Assert.Equal(stored.Select(f => f.Output), cells.Select(c => c.GetAttribute("data-output")));
        Assert.Equal(stored.Select(f => f.SqnrDb), cells.Select(c => Parse(c.GetAttribute("data-value"))));
    }

    private static IElement Row(IDocument page, string form) =>
        page.QuerySelectorAll("#results tbody tr").Single(r => r.GetAttribute("data-form") == form);

    private static Dictionary<string, double> Bars(IDocument page, string chart) =>
        page.QuerySelectorAll($"#{chart} rect.bar").ToDictionary(b => b.GetAttribute("data-label")!, b => Parse(b.GetAttribute("data-value")));

    private static async Task<IDocument> PageAsync(HttpClient client, string path) =>
        await new HtmlParser().ParseDocumentAsync(await client.GetStringAsync(path));

    private static double Parse(string? text) => double.Parse(text!, CultureInfo.InvariantCulture);
}
