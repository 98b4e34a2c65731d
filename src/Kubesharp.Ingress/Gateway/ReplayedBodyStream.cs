namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// A request body of which the first bytes were already read (to copy them to mirrors): those bytes again, then the
/// rest from the client, so the backend still receives the body whole and the rest is streamed, never buffered.
/// </summary>
internal sealed class ReplayedBodyStream(ReadOnlyMemory<byte> head, Stream rest) : Stream
{
    private ReadOnlyMemory<byte> head = head;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        if (head.IsEmpty)
        {
            return rest.Read(buffer);
        }

        var taken = Math.Min(buffer.Length, head.Length);
        head.Span[..taken].CopyTo(buffer);
        head = head[taken..];
        return taken;
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (head.IsEmpty)
        {
            return rest.ReadAsync(buffer, cancellationToken);
        }

        var taken = Math.Min(buffer.Length, head.Length);
        head[..taken].CopyTo(buffer);
        head = head[taken..];
        return ValueTask.FromResult(taken);
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
