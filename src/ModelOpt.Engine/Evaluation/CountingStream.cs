namespace ModelOpt.Engine.Evaluation;

/// <summary>
/// A write-only sink that keeps only the number of bytes written, so a model's file size is known without the file.
/// It reports itself seekable (position and length follow the highest byte written) because zip writers emit a
/// different layout, with per-entry data descriptors, to streams that cannot seek.
/// </summary>
internal sealed class CountingStream : Stream
{
    private long position;
    private long length;

    public override bool CanRead => false;
    public override bool CanSeek => true;
    public override bool CanWrite => true;
    public override long Length => length;

    public override long Position
    {
        get => position;
        set => Seek(value, SeekOrigin.Begin);
    }

    public override void Write(byte[] buffer, int offset, int count) => Advance(count);

    public override void Write(ReadOnlySpan<byte> buffer) => Advance(buffer.Length);

    public override void WriteByte(byte value) => Advance(1);

    public override long Seek(long offset, SeekOrigin origin)
    {
        var target = origin switch
        {
            SeekOrigin.Begin => offset,
            SeekOrigin.Current => position + offset,
            SeekOrigin.End => length + offset,
            _ => throw new ArgumentOutOfRangeException(nameof(origin)),
        };
        ArgumentOutOfRangeException.ThrowIfNegative(target, nameof(offset));
        position = target;
        return position;
    }

    public override void SetLength(long value)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(value);
        length = value;
        position = Math.Min(position, length);
    }

    public override void Flush()
    {
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("A counting stream keeps no bytes to read.");

    private void Advance(int count)
    {
        position += count;
        length = Math.Max(length, position);
    }
}
