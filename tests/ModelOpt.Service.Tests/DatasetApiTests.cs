using System.Buffers.Binary;
using System.IO.Compression;
using ModelOpt.Engine.Models;

namespace ModelOpt.Service.Tests;

/// <summary>Dataset upload, listing and deletion against PostgreSQL (no worker: jobs stay queued); every refusal leaves the store as it was.</summary>
public sealed class DatasetApiTests : PostgresApiTest
{
    private const long MaxUncompressedBytes = 4 * 1024 * 1024;
    private const int MaxEntries = 400;
    private const int MaxImageFileBytes = 1024 * 1024;
    private const long MaxDecodedPixels = 1_000_000;

    protected override void Configure(Dictionary<string, string?> settings)
    {
        settings["ModelOpt:DatasetUploads:MaxBytes"] = "8388608";
        settings["ModelOpt:DatasetUploads:MaxUncompressedBytes"] = MaxUncompressedBytes.ToString();
        settings["ModelOpt:DatasetUploads:MaxEntries"] = MaxEntries.ToString();
        settings["ModelOpt:DatasetUploads:MaxImageSide"] = "512";
        settings["ModelOpt:DatasetUploads:MaxImageFileBytes"] = MaxImageFileBytes.ToString();
        settings["ModelOpt:DatasetUploads:MaxDecodedPixels"] = MaxDecodedPixels.ToString();
    }

    [Theory]
    [InlineData("zip")]
    [InlineData("npz")]
    public async Task Upload_records_the_sha256_and_what_the_file_holds_and_lists_it_beside_the_built_in_sets(string format)
    {
        var content = TestDatasets.FashionMnist(format, 60, 20);

        var response = await Client.PostAsync("/api/datasets", TestDatasets.Form(content, $"fashion.{format}", "my-fashion"));

        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var dataset = await response.ReadAsync<DatasetDto>();
        Assert.Equal(("my-fashion", DatasetDto.Uploaded, 1, 10, 60, 20, 28, 28), (dataset.Name, dataset.Kind, dataset.InputChannels, dataset.Classes,
            dataset.TrainImages, dataset.TestImages, dataset.ImageHeight, dataset.ImageWidth));
        Assert.Equal(TestDatasets.FashionClasses, dataset.ClassNames);
        Assert.Equal(TestCheckpoints.Sha256(content), dataset.Sha256);
        Assert.Equal(content.Length, dataset.SizeBytes);
        Assert.Equal($"/api/datasets/{dataset.Id}", response.Headers.Location?.OriginalString);

        var listed = (await Client.GetFromJsonAsync<PagedResult<DatasetDto>>("/api/datasets", ApiClient.Json))!.Items;
        Assert.Contains(listed, d => d.Id == dataset.Id);
        var fashion = listed.Single(d => d.Name == "fashion-mnist");
        Assert.Equal((DatasetDto.BuiltIn, 60_000, 10_000, 28, "T-shirt/top"), (fashion.Kind, fashion.TrainImages, fashion.TestImages, fashion.ImageHeight, fashion.ClassNames![0]));
        Assert.Equal(dataset.Sha256, (await Client.GetFromJsonAsync<DatasetDto>($"/api/datasets/{dataset.Id}", ApiClient.Json))!.Sha256);

        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
        await (await Client.GetAsync($"/api/datasets/{dataset.Id}")).ProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty(Factory.StoredFiles());
    }

    [Theory]
    [InlineData("zip")]
    [InlineData("npz")]
    public async Task Images_without_labels_upload_as_an_unlabeled_set_that_only_a_checkpoints_job_can_use(string format)
    {
        // Images at the zip's root; an .npz with x_train and x_test only.
        var content = format == "zip"
            ? TestDatasets.Zip(("a.png", "png:200,10,10"), ("b.png", "png:10,200,10"), ("c.png", "png:10,10,200"))
            : RemoveEntry(RemoveEntry(TestDatasets.Npz(6, 3), "y_train.npy"), "y_test.npy");

        var dataset = await UploadAsync(content, $"street.{format}");

        Assert.False(dataset.Labeled);
        Assert.Equal((0, 3), (dataset.Classes, dataset.InputChannels));
        Assert.Empty(dataset.ClassNames!);
        Assert.Equal(format == "zip" ? (3, 0) : (6, 3), (dataset.TrainImages, dataset.TestImages));
        Assert.Contains("unlabeled images", dataset.Description);
        var listed = (await Client.GetFromJsonAsync<PagedResult<DatasetDto>>("/api/datasets", ApiClient.Json))!.Items;
        Assert.False(listed.Single(d => d.Id == dataset.Id).Labeled);
        Assert.True(listed.Single(d => d.Name == "fashion-mnist").Labeled);
        var page = await Client.GetStringAsync("/jobs/new");
        Assert.Contains($"<option value=\"{dataset.Id}\" data-labeled=\"false\">street (uploaded, no labels: quantize a checkpoint, compared with FP32)</option>", page);

        // Training needs labels; a checkpoint's job is accepted, its 10 classes not compared with the set's 0.
        var training = await Client.PostAsJsonAsync("/api/jobs", new { model = ModelZoo.ResNet20, dataset = dataset.Id });
        var trainingError = (await training.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("dataset")[0].GetString()!;
        Assert.Contains("has no labels, and training needs labels", trainingError);
        var checkpoint = await (await Client.PostAsync("/api/checkpoints", TestCheckpoints.Form(
            await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "resnet20_1ch_random.pth")), "resnet20.pth", ModelZoo.ResNet20)))
            .ReadAsync<CheckpointDto>();
        var job = await Client.SubmitAsync(new
        {
            model = ModelZoo.ResNet20, dataset = dataset.Id.ToString(), checkpointId = checkpoint.Id, preprocessing = new { color = "grayscale" },
        });
        Assert.Equal(("street", false), (job.Dataset, job.TrainFirst));
    }

    public static TheoryData<string, string, string> BadImageFolders => new()
    {
        { "slip.zip", "zip slip", "zip-slip" },
        { "absolute.zip", "zip slip", "absolute" },
        { "text.zip", "'train/cat/notes.txt' is not an image", "non-image" },
        { "fake.zip", "'train/cat/2.png' is not a readable", "corrupt-png" },
        { "emptyclass.zip", "class folder 'train/bird/' holds no images", "empty-class" },
        { "emptysplit.zip", "'test/' holds no images", "empty-split" },
        { "nosplit.zip", "no 'test/' beside it", "missing-split" },
        { "classes.zip", "class 'bird' has images in test/ but none in train/", "class-mismatch" },
        { "loose.zip", "lies directly in 'train/'", "loose-file" },
        { "huge.zip", "unpack to more than", "bomb-size" },
        { "many.zip", "entries; at most", "bomb-entries" },
        { "oneentry.zip", "unpacks to more than 1048576 bytes, the limit for one image file", "bomb-one-entry" },
        { "canvas.zip", "its images decode to more than 1000000 pixels in all", "huge-canvases" },
        { "notzip.zip", "it is not a zip archive that can be read", "not-zip" },
        { "data.csv", "an ImageFolder .zip or a NumPy .npz", "extension" },
    };

    [Theory]
    [MemberData(nameof(BadImageFolders))]
    public async Task A_bad_image_folder_zip_is_a_400_naming_the_file_and_the_entry_and_leaves_nothing_behind(string fileName, string reason, string kind)
    {
        var good = TestDatasets.GoodImageFolder();
        var content = kind switch
        {
            "zip-slip" => TestDatasets.Zip([.. good, ("train/cat/../../../evil.png", "png:1,2,3")]),
            "absolute" => TestDatasets.Zip([.. good, ("/etc/cron.d/evil.png", "png:1,2,3")]),
            "non-image" => TestDatasets.Zip([.. good, ("train/cat/notes.txt", "hello")]),
            "corrupt-png" => TestDatasets.Zip([.. good.Where(e => e.Item1 != "train/cat/2.png"), ("train/cat/2.png", "not a png at all")]),
            "empty-class" => TestDatasets.Zip([.. good, ("train/bird/", null), ("test/bird/", null)]),
            "empty-split" => TestDatasets.Zip([.. good.Where(e => !e.Item1.StartsWith("test/", StringComparison.Ordinal)), ("test/cat/", null), ("test/dog/", null)]),
            "missing-split" => TestDatasets.Zip([.. good.Where(e => !e.Item1.StartsWith("test/", StringComparison.Ordinal))]),
            "class-mismatch" => TestDatasets.Zip([.. good.Where(e => e.Item1 != "test/dog/2.png"), ("test/bird/2.png", "png:1,1,1")]),
            "loose-file" => TestDatasets.Zip([.. good, ("train/3.png", "png:1,1,1")]),
            // Zeros compress about a thousandfold: a small upload that would unpack past the limit.
            "bomb-size" => TestDatasets.Zip([.. good, ("train/cat/big.png", new string('0', (int)MaxUncompressedBytes + 1))]),
            // One honestly declared entry, within the archive's limit but past one image file's: refused before it is in memory.
            "bomb-one-entry" => TestDatasets.Zip([.. good, ("train/cat/big.png", new string('0', MaxImageFileBytes + 1))]),
            // Tiny files that decode to large canvases: the upload's pixel budget stops the check after a few.
            "huge-canvases" => TestDatasets.Zip([.. good, .. Enumerable.Range(0, 6).Select(i => ($"train/cat/wide{i}.png", (string?)"png:0,0,0:500x500"))]),
            "bomb-entries" => TestDatasets.Zip([.. good, .. Enumerable.Range(0, MaxEntries).Select(i => ($"train/cat/{i}.png", (string?)"png:9,9,9"))]),
            "not-zip" => "just some text, no zip here"u8.ToArray(),
            "extension" => TestDatasets.Zip(good),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };

        var response = await Client.PostAsync("/api/datasets", TestDatasets.Form(content, fileName));

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        var message = problem.GetProperty("errors").GetProperty("file")[0].GetString()!;
        Assert.Contains(reason, message);
        Assert.StartsWith(fileName, message);
        Assert.DoesNotContain(Factory.DataRoot, message);
        Assert.Empty(Factory.StoredFiles());
    }

    public static TheoryData<string, string> BadNpzFiles => new()
    {
        { "length", "x_train holds 6 images but y_train 5 labels" },
        { "dtype", "'x_train' has dtype '<f8'" },
        { "label-range", "y_train[2] is 7, outside the class range 0-2 (3 class_names)" },
        { "negative-label", "y_test[0] is -1, outside the class range" },
        { "empty-class", "class 2 ('2') has no images in y_train" },
        { "float-range", "float32 value 2" },
        { "truncated", "'x_test' is truncated" },
        { "fortran", "Fortran order" },
        { "missing", "no 'y_test' array" },
        { "header", "malformed .npy header" },
        { "label-overflow", "x_train holds 6 images but y_train 1152921504606846976 labels" },
        { "image-overflow", "more data than any upload can hold" },
    };

    [Theory]
    [MemberData(nameof(BadNpzFiles))]
    public async Task A_bad_npz_is_a_400_naming_the_file_and_the_array_and_leaves_nothing_behind(string kind, string reason)
    {
        var content = kind switch
        {
            "length" => TestDatasets.Npz(6, 3, ("y_train", "|u1", [5], [0, 1, 2, 0, 1])),
            "dtype" => TestDatasets.Npz(6, 3, ("x_train", "<f8", [6, 4, 4, 3], new byte[6 * 48 * 8])),
            "label-range" => TestDatasets.Npz(6, 3, ("y_train", "|u1", [6], [0, 1, 7, 0, 1, 2]), ("class_names", "<U1", [3], Utf32("abc"))),
            "negative-label" => TestDatasets.Npz(6, 3, ("y_test", "|i1", [3], [0xFF, 1, 2])),
            "empty-class" => TestDatasets.Npz(6, 3, ("y_train", "|u1", [6], [0, 1, 0, 1, 0, 1])),
            "float-range" => TestDatasets.Npz(6, 3, ("x_train", "<f4", [6, 3, 4, 4], Floats(6 * 48, 2f))),
            "truncated" => TestDatasets.Npz(6, 3, ("x_test", "|u1", [3, 4, 4, 3], new byte[100])),
            "fortran" => Replace(TestDatasets.Npz(6, 3), "'fortran_order': False, 'shape': (6, 4, 4, 3)", "'fortran_order': True,  'shape': (6, 4, 4, 3)"),
            "missing" => RemoveEntry(TestDatasets.Npz(6, 3), "y_test.npy"),
            "label-overflow" => TestDatasets.Npz(6, 3, ("y_train", "|u1", [1L << 60], [0, 1, 2, 0, 1, 2])),
            "image-overflow" => TestDatasets.Npz(6, 3, ("x_train", "|u1", [1L << 60, 4, 4, 3], new byte[48])),
            "header" => Replace(TestDatasets.Npz(6, 3), "'descr': '|u1', 'fortran_order': False, 'shape': (6,)", "'descr': '|u1', 'fortran_order': Fa1se, 'shape': (6,)"),
            _ => throw new ArgumentOutOfRangeException(nameof(kind), kind, null),
        };

        var response = await Client.PostAsync("/api/datasets", TestDatasets.Form(content, "bad.npz"));

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        var message = problem.GetProperty("errors").GetProperty("file")[0].GetString()!;
        Assert.Contains(reason, message);
        Assert.StartsWith("bad.npz", message);
        Assert.Empty(Factory.StoredFiles());
    }

    [Fact]
    public async Task An_upload_over_the_size_limit_is_413_naming_the_dataset_limit_and_leaves_nothing_behind()
    {
        var response = await Client.PostAsync("/api/datasets", TestDatasets.Form(new byte[9 * 1024 * 1024], "big.zip"));

        var problem = await response.ProblemAsync(HttpStatusCode.RequestEntityTooLarge);
        Assert.Contains("ModelOpt:DatasetUploads:MaxBytes", problem.GetProperty("detail").GetString());
        Assert.Empty(Factory.StoredFiles());
    }

    [Fact]
    public async Task A_multipart_body_without_its_closing_boundary_is_a_400_and_leaves_nothing_behind()
    {
        var body = "--cut\r\nContent-Disposition: form-data; name=\"file\"; filename=\"pets.zip\"\r\nContent-Type: application/zip\r\n\r\n"u8.ToArray()
            .Concat(TestDatasets.Zip(TestDatasets.GoodImageFolder())).ToArray();
        var content = new ByteArrayContent(body);
        content.Headers.TryAddWithoutValidation("Content-Type", "multipart/form-data; boundary=cut");

        var response = await Client.PostAsync("/api/datasets", content);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("closing boundary", problem.GetProperty("errors").GetProperty("file")[0].GetString());
        Assert.Empty(Factory.StoredFiles());
    }

    [Fact]
    public async Task A_retried_upload_with_one_idempotency_key_stores_one_dataset()
    {
        var content = TestDatasets.Zip(TestDatasets.GoodImageFolder());
        var ids = new List<Guid?>();
        for (var i = 0; i < 2; i++)
        {
            var request = new HttpRequestMessage(HttpMethod.Post, "/api/datasets") { Content = TestDatasets.Form(content, "pets.zip") };
            request.Headers.Add("Idempotency-Key", "dataset-1");
            var response = await Client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Created, response.StatusCode);
            ids.Add((await response.ReadAsync<DatasetDto>()).Id);
        }

        Assert.Single(ids.Distinct());
        Assert.Single(Factory.StoredFiles());
    }

    [Fact]
    public async Task A_name_longer_than_a_job_can_record_is_refused_and_the_longest_one_runs_as_a_job()
    {
        var content = TestDatasets.Zip(TestDatasets.GoodImageFolder());

        var refused = await (await Client.PostAsync("/api/datasets", TestDatasets.Form(content, "x.zip", new string('d', 65)))).ProblemAsync(HttpStatusCode.BadRequest);
        var dataset = await UploadAsync(content, "pets.zip", new string('d', 64));
        var job = await Client.SubmitAsync(new { model = ModelZoo.ResNet20, dataset = dataset.Id.ToString() });

        Assert.Contains("at most 64", refused.GetProperty("errors").GetProperty("name")[0].GetString());
        Assert.Equal(new string('d', 64), job.Dataset);
    }

    [Fact]
    public async Task A_built_in_name_cannot_be_taken_by_an_upload()
    {
        var response = await Client.PostAsync("/api/datasets", TestDatasets.Form(TestDatasets.Zip(TestDatasets.GoodImageFolder()), "x.zip", "fashion-mnist"));

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("built-in", problem.GetProperty("errors").GetProperty("name")[0].GetString());
        Assert.Empty(Factory.StoredFiles());
    }

    [Fact]
    public async Task Delete_is_refused_while_a_queued_job_uses_the_dataset()
    {
        var dataset = await UploadAsync(TestDatasets.Zip(TestDatasets.GoodImageFolder()), "pets.zip");
        Assert.Equal((3, 2, 3, 2), (dataset.InputChannels, dataset.Classes, dataset.TrainImages, dataset.TestImages));
        var job = await Client.SubmitAsync(new { model = ModelZoo.ResNet20, dataset = dataset.Id.ToString() });
        Assert.Equal("pets", job.Dataset);

        var refused = await (await Client.DeleteAsync($"/api/datasets/{dataset.Id}")).ProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains(job.Id.ToString(), refused.GetProperty("detail").GetString());

        await Client.PostAsync($"/api/jobs/{job.Id}/cancel", null);
        Assert.Equal(HttpStatusCode.NoContent, (await Client.DeleteAsync($"/api/datasets/{dataset.Id}")).StatusCode);
        Assert.Empty(Factory.StoredFiles());
    }

    [Fact]
    public async Task A_job_whose_dataset_cannot_fit_the_checkpoint_is_a_400_naming_both_numbers()
    {
        var checkpoint = await (await Client.PostAsync("/api/checkpoints", TestCheckpoints.Form(
            await File.ReadAllBytesAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "resnet20_1ch_random.pth")), "resnet20.pth", ModelZoo.ResNet20)))
            .ReadAsync<CheckpointDto>();
        var rgb = await UploadAsync(TestDatasets.Zip(TestDatasets.GoodImageFolder()), "rgb.zip");
        var threeClasses = await UploadAsync(TestDatasets.Npz(6, 3), "three.npz");

        var channels = await Client.PostAsJsonAsync("/api/jobs", new { model = ModelZoo.ResNet20, dataset = rgb.Id, checkpointId = checkpoint.Id });
        var channelError = (await channels.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("dataset")[0].GetString()!;
        Assert.Contains("3-channel images", channelError);
        Assert.Contains("takes 1 channel", channelError);

        var converted = await Client.PostAsJsonAsync("/api/jobs", new
        {
            model = ModelZoo.ResNet20, dataset = threeClasses.Id, checkpointId = checkpoint.Id, preprocessing = new { color = "grayscale" },
        });
        var classError = (await converted.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("dataset")[0].GetString()!;
        Assert.Contains("has 3 classes", classError);
        Assert.Contains("predicts 10", classError);

        var unknown = await Client.PostAsJsonAsync("/api/jobs", new { model = ModelZoo.ResNet20, dataset = Guid.NewGuid() });
        // 404, as for another team's dataset: the two cannot be told apart (ADR-024).
        Assert.Contains("does not exist", (await unknown.ProblemAsync(HttpStatusCode.NotFound)).GetProperty("detail").GetString());
        var badTransform = await Client.PostAsJsonAsync("/api/jobs", new { model = ModelZoo.ResNet20, dataset = rgb.Id, preprocessing = new { mean = new[] { 0.5, 0.5 } } });
        Assert.Contains("mean has 2 values", (await badTransform.ProblemAsync(HttpStatusCode.BadRequest)).GetProperty("errors").GetProperty("preprocessing")[0].GetString());
    }

    private async Task<DatasetDto> UploadAsync(byte[] content, string fileName, string? name = null)
    {
        var response = await Client.PostAsync("/api/datasets", TestDatasets.Form(content, fileName, name));
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return await response.ReadAsync<DatasetDto>();
    }

    private static byte[] Utf32(string letters) => [.. letters.SelectMany(c => System.Text.Encoding.UTF32.GetBytes(c.ToString()))];

    private static byte[] Floats(int count, float value)
    {
        var bytes = new byte[count * 4];
        for (var i = 0; i < count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), value);
        }
        return bytes;
    }

    /// <summary>Rewrites one .npy header in place (same length), through a stored copy of the archive.</summary>
    private static byte[] Replace(byte[] npz, string from, string to)
    {
        using var input = new ZipArchive(new MemoryStream(npz));
        return Rebuild(input, (name, bytes) =>
        {
            var text = System.Text.Encoding.Latin1.GetString(bytes);
            return text.Contains(from) ? System.Text.Encoding.Latin1.GetBytes(text.Replace(from, to)) : bytes;
        });
    }

    private static byte[] RemoveEntry(byte[] npz, string entryName)
    {
        using var input = new ZipArchive(new MemoryStream(npz));
        return Rebuild(input, (name, bytes) => name == entryName ? null : bytes);
    }

    private static byte[] Rebuild(ZipArchive input, Func<string, byte[], byte[]?> change)
    {
        using var memory = new MemoryStream();
        using (var output = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach (var entry in input.Entries)
            {
                using var read = new MemoryStream();
                using (var stream = entry.Open())
                {
                    stream.CopyTo(read);
                }
                if (change(entry.FullName, read.ToArray()) is { } bytes)
                {
                    using var write = output.CreateEntry(entry.FullName).Open();
                    write.Write(bytes);
                }
            }
        }
        return memory.ToArray();
    }
}
