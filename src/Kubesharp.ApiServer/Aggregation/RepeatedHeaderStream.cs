using System.Text;

namespace Kubesharp.ApiServer.Aggregation;

/// <summary>
/// Lets a header be sent once per value. .NET's HTTP client joins the values of one header into a single line
/// ("X-Remote-Group: a, b"), but upstream's request-header authentication takes every line as one whole value, so a
/// caller's groups would arrive as one group. Each value is therefore added under its own name
/// (<c>X-Kubesharp-Repeat-N-NAME</c>), and this stream, under TLS on the connection to the extension API server,
/// renames those lines back to NAME in the request head as it is written. The head of an HTTP/1.1 request is written
/// whole, at the start of a write.
/// </summary>
internal sealed class RepeatedHeaderStream(Stream inner) : Stream
{
    public const string Prefix = "X-Kubesharp-Repeat-";

    private static readonly byte[] PrefixBytes = Encoding.ASCII.GetBytes(Prefix);
    private static readonly byte[] HeadEnd = "\r\n\r\n"u8.ToArray();

    /// <summary>The name under which value number <paramref name="index"/> of <paramref name="name"/> is added.</summary>
    public static string Name(string name, int index) => $"{Prefix}{index}-{name}";

    public override bool CanRead => inner.CanRead;

    public override bool CanSeek => false;

    public override bool CanWrite => inner.CanWrite;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

    public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => inner.ReadAsync(buffer, cancellationToken);

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => inner.ReadAsync(buffer, offset, count, cancellationToken);

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => inner.Write(Rewrite(buffer.AsMemory(offset, count)).Span);

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        inner.WriteAsync(Rewrite(buffer.AsMemory(offset, count)), cancellationToken).AsTask();

    public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(Rewrite(buffer), cancellationToken);

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }

        base.Dispose(disposing);
    }

    private static ReadOnlyMemory<byte> Rewrite(ReadOnlyMemory<byte> data)
    {
        var span = data.Span;
        var headEnd = span.IndexOf(HeadEnd);
        if (headEnd < 0 || span.IndexOf(PrefixBytes) is var first && (first < 0 || first > headEnd) || !StartsWithRequestLine(span))
        {
            return data;
        }

        // Lines of the head, each "PREFIX N-NAME: value" renamed "NAME: value"; the rest (the body's start) as it was.
        var output = new MemoryStream(data.Length);
        var position = 0;
        while (position < headEnd + 2)
        {
            var lineEnd = span[position..].IndexOf("\r\n"u8) + position;
            var line = span[position..lineEnd];
            if (line.StartsWith(PrefixBytes) && line[PrefixBytes.Length..].IndexOf((byte)'-') is var dash and >= 0)
            {
                line = line[(PrefixBytes.Length + dash + 1)..];
            }

            output.Write(line);
            output.Write("\r\n"u8);
            position = lineEnd + 2;
        }

        output.Write(span[position..]);
        return output.ToArray();
    }

    private static bool StartsWithRequestLine(ReadOnlySpan<byte> span)
    {
        var space = span.IndexOf((byte)' ');
        if (space <= 0 || space > 10)
        {
            return false;
        }

        foreach (var b in span[..space])
        {
            if (b is < (byte)'A' or > (byte)'Z')
            {
                return false;
            }
        }

        return true;
    }
}
