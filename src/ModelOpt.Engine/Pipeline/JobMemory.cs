namespace ModelOpt.Engine.Pipeline;

/// <summary>
/// What one job's stages have already loaded in this process (the dataset, the FP32 model, the int8 graph), so the next
/// stage of the same job reuses it instead of reading it again. Each object is stored with the identity of what it was
/// read from (file size and time, dataset settings); a stage asking for another identity gets a fresh read. Files stay
/// the hand-over between stages: a stage in a fresh process, with an empty memory, reads them as before.
/// </summary>
internal sealed class JobMemory : IDisposable
{
    private readonly Dictionary<string, (string Identity, IDisposable Value)> slots = [];
    private readonly Lock gate = new();

    /// <summary>The object in <paramref name="slot"/> when it was opened from <paramref name="identity"/>; otherwise <paramref name="open"/>'s, kept.</summary>
    /// <remarks>
    /// Objects are opened on a thread of their own: dispose scopes are per thread, and the calling stage's scope would
    /// otherwise take the tensors of an object meant to outlive the stage.
    /// </remarks>
    public T Get<T>(string slot, string identity, Func<T> open) where T : class, IDisposable
    {
        lock (gate)
        {
            if (slots.TryGetValue(slot, out var held))
            {
                if (held.Identity == identity)
                {
                    return (T)held.Value;
                }
                slots.Remove(slot);
                held.Value.Dispose();
            }
            var value = Task.Factory.StartNew(open, CancellationToken.None, TaskCreationOptions.LongRunning, TaskScheduler.Default).GetAwaiter().GetResult();
            slots[slot] = (identity, value);
            return value;
        }
    }

    /// <summary>A file's identity for <see cref="Get{T}"/>: path, length and last write time.</summary>
    public static string FileIdentity(string path)
    {
        var file = new FileInfo(path);
        return file.Exists ? $"{file.FullName}|{file.Length}|{file.LastWriteTimeUtc.Ticks}" : file.FullName;
    }

    public void Dispose()
    {
        lock (gate)
        {
            foreach (var (_, value) in slots.Values)
            {
                value.Dispose();
            }
            slots.Clear();
        }
    }
}
