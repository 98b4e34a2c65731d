using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kubesharp.Ingress;

/// <summary>
/// Sends a backend's response to the client in as few writes as it arrives in. The forwarder flushes each piece of
/// body it copies, so a chunked response read whole in one go went out as two sends: headers with the data, then the
/// closing chunk when the response completed (two wake-ups of the client per request where nginx has one). Here the
/// copied body is written to the client's connection unflushed, and flushed only when the backend has nothing more
/// ready (its next read would wait: a streamed response still reaches the client at once), every
/// <see cref="FlushBytes"/>, or when the response completes.
/// </summary>
internal static class CoalescedResponseBody
{
    /// <summary>Unflushed body the proxy holds at most for one client before it waits for the client to take it.</summary>
    public const int FlushBytes = 64 * 1024;

    /// <summary>
    /// Makes the forwarder's copy of <paramref name="response"/>'s body coalesce its writes, once the status and headers
    /// are copied. Upgraded connections (101) are left to the forwarder as they are.
    /// </summary>
    public static void Install(HttpContext context, HttpResponseMessage? response)
    {
        if (response is null || response.StatusCode == HttpStatusCode.SwitchingProtocols || context.Features.Get<IHttpResponseBodyFeature>() is not { } body)
        {
            return;
        }

        var output = new OutputStream(body);
        context.Features.Set<IHttpResponseBodyFeature>(output);
        response.Content = new FlushingContent(response.Content, output);
    }

    /// <summary>The client's response body as the forwarder writes it: into the connection's buffer, flushed on demand.</summary>
    private sealed class OutputStream(IHttpResponseBodyFeature inner) : Stream, IHttpResponseBodyFeature
    {
        private int _unflushed;

        public bool HasUnflushed => _unflushed > 0;

        Stream IHttpResponseBodyFeature.Stream => this;

        public PipeWriter Writer => inner.Writer;

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public void DisableBuffering() => inner.DisableBuffering();

        public Task StartAsync(CancellationToken cancellationToken = default) => inner.StartAsync(cancellationToken);

        public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
            inner.SendFileAsync(path, offset, count, cancellationToken);

        public Task CompleteAsync() => inner.CompleteAsync();

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            inner.Writer.Write(buffer.Span);
            _unflushed += buffer.Length;
            return _unflushed >= FlushBytes ? new ValueTask(FlushAsync(cancellationToken)) : ValueTask.CompletedTask;
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async Task FlushAsync(CancellationToken cancellationToken)
        {
            _unflushed = 0;
            await inner.Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        // Synchronous writes stay as the server allows them (by default not at all); they follow what is buffered.
        public override void Write(byte[] buffer, int offset, int count) => inner.Stream.Write(buffer, offset, count);

        public override void Flush() => inner.Stream.Flush();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }

    /// <summary>The backend's body, read through <see cref="FlushingStream"/>; its headers were copied before.</summary>
    private sealed class FlushingContent(HttpContent inner, OutputStream output) : HttpContent
    {
        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context) => inner.CopyToAsync(stream);

        protected override Task SerializeToStreamAsync(Stream stream, TransportContext? context, CancellationToken cancellationToken) =>
            inner.CopyToAsync(stream, cancellationToken);

        protected override bool TryComputeLength(out long length)
        {
            length = 0;
            return false;
        }

        protected override async Task<Stream> CreateContentReadStreamAsync() =>
            new FlushingStream(await inner.ReadAsStreamAsync().ConfigureAwait(false), output);

        protected override async Task<Stream> CreateContentReadStreamAsync(CancellationToken cancellationToken) =>
            new FlushingStream(await inner.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false), output);

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    /// <summary>A read of the backend's body that would wait first sends the client what it has been given so far.</summary>
    private sealed class FlushingStream(Stream inner, OutputStream output) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var read = inner.ReadAsync(buffer, cancellationToken);
            return read.IsCompleted || !output.HasUnflushed ? read : FlushThenReadAsync(read, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, count);

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }

        private async ValueTask<int> FlushThenReadAsync(ValueTask<int> read, CancellationToken cancellationToken)
        {
            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
            return await read.ConfigureAwait(false);
        }
    }
}
