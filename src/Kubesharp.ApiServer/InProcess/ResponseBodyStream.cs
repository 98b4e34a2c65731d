using System.Buffers;
using System.IO.Pipelines;

namespace Kubesharp.ApiServer.InProcess;

/// <summary>
/// The client's read end of an in-process response body. An aborted or failed response reads as an
/// <see cref="IOException"/>, as a reset stream does over HTTP/2; disposing it before the end aborts the request.
/// </summary>
internal sealed class ResponseBodyStream(InProcessExchange exchange, PipeReader reader) : Stream
{
    private bool disposed;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => throw new NotSupportedException();

    public override long Position
    {
        get => throw new NotSupportedException();
        set => throw new NotSupportedException();
    }

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        while (true)
        {
            var result = await ReadResultAsync(cancellationToken).ConfigureAwait(false);
            var available = result.Buffer;
            if (!available.IsEmpty)
            {
                var count = (int)Math.Min(available.Length, buffer.Length);
                available.Slice(0, count).CopyTo(buffer.Span);
                reader.AdvanceTo(available.GetPosition(count));
                return count;
            }

            reader.AdvanceTo(available.Start, available.End);
            if (result.IsCompleted || buffer.Length == 0)
            {
                return 0;
            }
        }
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async Task CopyToAsync(Stream destination, int bufferSize, CancellationToken cancellationToken)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        while (true)
        {
            var result = await ReadResultAsync(cancellationToken).ConfigureAwait(false);
            foreach (var segment in result.Buffer)
            {
                await destination.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
            }

            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }

    private async ValueTask<ReadResult> ReadResultAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result;
            try
            {
                result = await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (e is not OperationCanceledException and not IOException)
            {
                throw new IOException(e.Message, e);
            }

            if (!result.IsCanceled)
            {
                return result;
            }

            reader.AdvanceTo(result.Buffer.Start);
            if (exchange.AbortedWith is { } reason)
            {
                throw reason as IOException ?? new IOException(reason.Message, reason);
            }
        }
    }

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("The in-process response is read asynchronously.");

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing && !disposed)
        {
            disposed = true;
            exchange.ClientClosed();
        }

        base.Dispose(disposing);
    }
}
