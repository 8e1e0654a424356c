using Microsoft.AspNetCore.Http.Features;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;
using ModelOpt.Jobs.Artifacts;

namespace ModelOpt.Api.Infrastructure;

/// <summary>
/// An upload read from a multipart/form-data body by the handler itself: one file part, streamed to the artifact
/// store's temporary folder and hashed on the way (never held in memory), and the text fields the handler knows.
/// Disposing it deletes the temporary file unless it was moved into place.
/// </summary>
public sealed class MultipartUpload : IDisposable
{
    /// <summary>Room for multipart boundaries and headers on top of the file's own limit.</summary>
    private const long MultipartOverhead = 64 * 1024;
    private const int MaxFieldLength = 4096;

    private MultipartUpload(ArtifactStore.TempFile file, string fileName, IReadOnlyDictionary<string, string> fields)
    {
        File = file;
        FileName = fileName;
        Fields = fields;
    }

    public ArtifactStore.TempFile File { get; }

    /// <summary>The client's file name, reduced to a safe last path segment.</summary>
    public string FileName { get; }

    /// <summary>The non-empty text fields among those asked for, trimmed.</summary>
    public IReadOnlyDictionary<string, string> Fields { get; }

    /// <summary>
    /// Reads the body; <paramref name="what"/> says what the file is in messages ("checkpoint", "dataset"), and
    /// <paramref name="maxBytesSetting"/> names the setting <paramref name="maxBytes"/> comes from in a 413.
    /// </summary>
    /// <exception cref="PayloadTooLargeException">More than <paramref name="maxBytes"/> arrive.</exception>
    /// <exception cref="UnsupportedMediaTypeException">Not multipart/form-data.</exception>
    /// <exception cref="RequestValidationException">No file or two files, a malformed body.</exception>
    public static async Task<MultipartUpload> ReadAsync(
        HttpRequest request, ArtifactStore store, long maxBytes, string maxBytesSetting, string what, IReadOnlyCollection<string> fieldNames, CancellationToken cancellationToken)
    {
        if (request.HttpContext.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = maxBytes + MultipartOverhead;
        }
        if (request.ContentLength is { } length && length > maxBytes + MultipartOverhead)
        {
            throw new PayloadTooLargeException(maxBytes, maxBytesSetting);
        }
        if (!MediaTypeHeaderValue.TryParse(request.ContentType, out var contentType)
            || !contentType.MediaType.Equals("multipart/form-data", StringComparison.OrdinalIgnoreCase)
            || HeaderUtilities.RemoveQuotes(contentType.Boundary).Value is not { Length: > 0 } boundary)
        {
            throw new UnsupportedMediaTypeException($"Send the {what} as multipart/form-data with a part named 'file'.");
        }

        ArtifactStore.TempFile? temp = null;
        string? fileName = null;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        try
        {
            var reader = new MultipartReader(boundary, request.Body);
            while (await reader.ReadNextSectionAsync(cancellationToken) is { } section)
            {
                if (!ContentDispositionHeaderValue.TryParse(section.ContentDisposition, out var disposition))
                {
                    continue;
                }
                var name = HeaderUtilities.RemoveQuotes(disposition.Name).Value ?? "";
                if (disposition.IsFileDisposition())
                {
                    if (temp is not null)
                    {
                        throw new RequestValidationException("file", $"Upload exactly one {what} file per request.");
                    }
                    fileName = SafeFileName(HeaderUtilities.RemoveQuotes(disposition.FileNameStar.HasValue ? disposition.FileNameStar : disposition.FileName).Value);
                    temp = await store.WriteTempAsync(section.Body, maxBytes, cancellationToken, maxBytesSetting);
                }
                else if (fieldNames.Contains(name))
                {
                    using var text = new StreamReader(section.Body);
                    var buffer = new char[MaxFieldLength + 1];
                    var read = await text.ReadBlockAsync(buffer, cancellationToken);
                    if (read > MaxFieldLength)
                    {
                        throw new RequestValidationException(name, $"'{name}' is longer than {MaxFieldLength} characters.");
                    }
                    var value = new string(buffer, 0, read).Trim();
                    if (value.Length > 0)
                    {
                        fields[name] = value;
                    }
                }
            }
            if (temp is null || fileName is null)
            {
                throw new RequestValidationException("file", "The request has no file part.");
            }
            return new MultipartUpload(temp, fileName, fields);
        }
        catch (Exception e) when (e is InvalidDataException || (e is IOException io && io is not BadHttpRequestException && !DiskSpace.IsFull(io)))
        {
            // MultipartReader's own words name its internals; the body's sender needs only to know it is not well formed.
            temp?.Dispose();
            throw new RequestValidationException("file", "The multipart body is malformed: it ends before its closing boundary or breaks the multipart/form-data format.");
        }
        catch
        {
            temp?.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Moves the file to <paramref name="relativePath"/> in the store, then runs <paramref name="saveRow"/> (the row that
    /// references it); when saving fails the file is deleted again: no row, no file. With an Idempotency-Key, a failed
    /// insert may mean that a concurrent retry stored its row first: <paramref name="findConcurrent"/> then returns that
    /// retry's answer, which this method returns; it returns null when this upload's row was saved.
    /// </summary>
    public async Task<T?> KeepAsync<T>(ArtifactStore store, string relativePath, Func<Task> saveRow, Func<Task<T?>>? findConcurrent) where T : class
    {
        File.MoveTo(relativePath);
        try
        {
            await saveRow();
            return null;
        }
        catch (DbUpdateException) when (findConcurrent is not null)
        {
            store.Delete(relativePath);
            var concurrent = await findConcurrent();
            if (concurrent is null)
            {
                throw;
            }
            return concurrent;
        }
        catch
        {
            store.Delete(relativePath);
            throw;
        }
    }

    public void Dispose() => File.Dispose();

    private static string SafeFileName(string? raw)
    {
        var name = Path.GetFileName(raw ?? "").Trim();
        foreach (var c in Path.GetInvalidFileNameChars())
        {
            name = name.Replace(c, '_');
        }
        if (name.Length is 0 or > 200 || name.StartsWith('.'))
        {
            throw new RequestValidationException("file", "The file part needs a file name (at most 200 characters, not starting with '.').");
        }
        return name;
    }
}
