using System.Buffers;
using System.IO.Pipelines;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using Kubesharp.ApiServer.Security;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;

namespace Kubesharp.ApiServer.InProcess;

/// <summary>
/// One request and its response inside the process: the features Kestrel would give the request pipeline (request
/// line and headers, a response whose body streams through a pipe, the TLS client certificate, loopback addresses,
/// request abort), and the client's side of it (when the response may be handed over, the body's read end).
/// </summary>
/// <remarks>
/// The response is handed to the client when the pipeline ends or sends its headers (StartAsync, a flush, a large
/// write); plain writes stay in the pipe until then, so a short answer reaches the client on the thread that finished
/// it, without a further hand-off.
/// </remarks>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "RequestAborted's source may be cancelled from queued work after the request ended; it holds no timer or wait handle to give back.")]
internal sealed class InProcessExchange :
    IHttpRequestFeature,
    IHttpResponseFeature,
    IHttpResponseBodyFeature,
    IHttpRequestLifetimeFeature,
    IHttpConnectionFeature,
    ITlsConnectionFeature,
    IHttpRequestBodyDetectionFeature,
    IServiceProvidersFeature,
    ITransportIdentityFeature
{
    /// <summary>Bytes written without a flush after which they are flushed: bounds the pipe as Kestrel's output does.</summary>
    internal const int FlushThreshold = 32 * 1024;

    private readonly InProcessTransport transport;
    private readonly Pipe pipe = new(new PipeOptions(useSynchronizationContext: false));
    private readonly CancellationTokenSource aborted = new();
    private readonly TaskCompletionSource ready = new();
    private readonly object gate = new();
    private Stack<(Func<object, Task> Callback, object State)>? onStarting;
    private Stack<(Func<object, Task> Callback, object State)>? onCompleted;
    private CancellationTokenRegistration stopping;
    private int statusCode = StatusCodes.Status200OK;
    private volatile bool started;
    private volatile bool headersSent;
    private volatile bool finished;
    private volatile bool awaited;
    private bool bodyCompleted;
    private Exception? abortedWith;

    public InProcessExchange(InProcessTransport transport, X509Certificate2? clientCertificate, UserInfo? user, string connectionId)
    {
        this.transport = transport;
        ClientCertificate = clientCertificate;
        User = user;
        ConnectionId = connectionId;
        RequestAborted = aborted.Token;
        Writer = new ResponseBodyWriter(this, pipe.Writer);
        Stream = Writer.AsStream(leaveOpen: true);
        ResponseBody = new ResponseBodyStream(this, pipe.Reader);
        RequestServices = transport.Services;
        var local = transport.LocalEndPoint;
        LocalIpAddress = local.Address;
        LocalPort = local.Port;
        RemoteIpAddress = local.Address;
    }

    // Request.
    public string Protocol { get; set; } = "HTTP/2";

    public string Scheme { get; set; } = "https";

    public string Method { get; set; } = HttpMethods.Get;

    public string PathBase { get; set; } = string.Empty;

    public string Path { get; set; } = "/";

    public string QueryString { get; set; } = string.Empty;

    public string RawTarget { get; set; } = "/";

    IHeaderDictionary IHttpRequestFeature.Headers { get; set; } = new HeaderDictionary();

    Stream IHttpRequestFeature.Body { get; set; } = Stream.Null;

    public bool CanHaveBody { get; set; }

    // Connection: loopback on both ends, the client certificate as TLS would have carried it.
    public string ConnectionId { get; set; }

    public IPAddress? RemoteIpAddress { get; set; }

    public IPAddress? LocalIpAddress { get; set; }

    public int RemotePort { get; set; }

    public int LocalPort { get; set; }

    public X509Certificate2? ClientCertificate { get; set; }

    public Task<X509Certificate2?> GetClientCertificateAsync(CancellationToken cancellationToken) => Task.FromResult(ClientCertificate);

    /// <summary>The component the transport vouches for, when it was made for one instead of a certificate.</summary>
    public UserInfo? User { get; }

    UserInfo ITransportIdentityFeature.User => User!;

    public IServiceProvider RequestServices { get; set; }

    public CancellationToken RequestAborted { get; set; }

    // Response.
    public int StatusCode
    {
        get => statusCode;
        set
        {
            if (started)
            {
                throw new InvalidOperationException("StatusCode cannot be set because the response has already started.");
            }

            statusCode = value;
        }
    }

    public string? ReasonPhrase { get; set; }

    IHeaderDictionary IHttpResponseFeature.Headers { get; set; } = new HeaderDictionary();

    internal IHeaderDictionary ResponseHeaders => ((IHttpResponseFeature)this).Headers;

    [Obsolete("Use IHttpResponseBodyFeature.Stream.")]
    Stream IHttpResponseFeature.Body
    {
        get => Stream;
        set => throw new NotSupportedException("The response body is replaced through IHttpResponseBodyFeature.");
    }

    public bool HasStarted => started;

    public Stream Stream { get; }

    public PipeWriter Writer { get; }

    /// <summary>The client's read end of the response body.</summary>
    internal ResponseBodyStream ResponseBody { get; }

    /// <summary>Completes when the response may be handed to the client.</summary>
    internal Task Ready => ready.Task;

    internal bool Finished => finished;

    internal bool HeadersSent => headersSent;

    public void OnStarting(Func<object, Task> callback, object state)
    {
        if (started)
        {
            throw new InvalidOperationException("OnStarting cannot be set because the response has already started.");
        }

        (onStarting ??= new()).Push((callback, state));
    }

    public void OnCompleted(Func<object, Task> callback, object state) => (onCompleted ??= new()).Push((callback, state));

    public void DisableBuffering()
    {
    }

    public async Task StartAsync(CancellationToken cancellationToken = default)
    {
        await SendHeadersAsync().ConfigureAwait(false);
        await Writer.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    public Task SendFileAsync(string path, long offset, long? count, CancellationToken cancellationToken = default) =>
        SendFileFallback.SendFileAsync(Stream, path, offset, count, cancellationToken);

    public async Task CompleteAsync()
    {
        await SendHeadersAsync().ConfigureAwait(false);
        CompleteBody(null);
        Signal(inline: false);
    }

    /// <summary>Aborts the request: the pipeline's RequestAborted fires and the client's read of the body fails.</summary>
    public void Abort() => Abort(new IOException("The request was aborted."));

    internal void Abort(Exception reason)
    {
        lock (gate)
        {
            if (abortedWith is not null)
            {
                return;
            }

            abortedWith = reason;
        }

        // Off the caller's thread, as Kestrel does: what the pipeline registered on RequestAborted must not run on a client's thread.
        ThreadPool.UnsafeQueueUserWorkItem(static aborted => aborted.Cancel(), aborted, preferLocal: false);

        // Either end of the pipe may be in use on another thread: both are woken, and each side ends itself.
        pipe.Reader.CancelPendingRead();
        pipe.Writer.CancelPendingFlush();
        Signal(inline: false);
    }

    /// <summary>Why the request was aborted, or null.</summary>
    internal Exception? AbortedWith
    {
        get
        {
            lock (gate)
            {
                return abortedWith;
            }
        }
    }

    /// <summary>The first write starts the response (its status and headers are fixed); they reach the client later.</summary>
    internal void MarkStarted() => started = true;

    /// <summary>Runs the OnStarting callbacks (last registered first, as Kestrel) and fixes the headers, once.</summary>
    internal async ValueTask SendHeadersAsync()
    {
        if (headersSent)
        {
            return;
        }

        while (onStarting is { Count: > 0 } callbacks)
        {
            var (callback, state) = callbacks.Pop();
            await callback(state).ConfigureAwait(false);
        }

        started = true;
        if (ResponseHeaders is HeaderDictionary headers)
        {
            headers.IsReadOnly = true;
        }

        headersSent = true;
        Signal(inline: false);
    }

    /// <summary>Lets the client have the response; off the pipeline's thread when the client is already waiting for it.</summary>
    internal void Signal(bool inline)
    {
        if (inline || !awaited)
        {
            ready.TrySetResult();
        }
        else if (!ready.Task.IsCompleted)
        {
            ThreadPool.UnsafeQueueUserWorkItem(static ready => ready.TrySetResult(), ready, preferLocal: false);
        }
    }

    internal void MarkAwaited() => awaited = true;

    /// <summary>Runs the request pipeline, then completes the response and runs the completion callbacks.</summary>
    internal async Task RunAsync(HttpContext context)
    {
        stopping = transport.Aborting.UnsafeRegister(static state => ((InProcessExchange)state!).Abort(), this);
        try
        {
            try
            {
                await transport.Pipeline(context).ConfigureAwait(false);
                await SendHeadersAsync().ConfigureAwait(false);
            }
            catch (Exception ex)
            {
                if (started)
                {
                    // Too late for a status: the stream is reset, as Kestrel resets it.
                    Abort(new IOException("The server ended the response with an error.", ex));
                }
                else
                {
                    statusCode = StatusCodes.Status500InternalServerError;
                    ResponseHeaders.Clear();
                    ResponseHeaders.ContentLength = 0;
                    await SendHeadersAsync().ConfigureAwait(false);
                }
            }

            // On the pipeline's side of the pipe, so no write of it is in flight: an abort reaches a reader still reading.
            CompleteBody(AbortedWith);
            while (onCompleted is { Count: > 0 } callbacks)
            {
                var (callback, state) = callbacks.Pop();
                try
                {
                    await callback(state).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OutOfMemoryException)
                {
                    // As on Kestrel, a failing completion callback cannot change a response that is already out.
                }
            }
        }
        finally
        {
            await stopping.DisposeAsync().ConfigureAwait(false);
            finished = true;
            Signal(inline: true);
            transport.Exit();
        }
    }

    /// <summary>The client is done with the response: a request still running is aborted, as on a closed stream.</summary>
    internal void ClientClosed()
    {
        pipe.Reader.Complete();
        if (!finished)
        {
            Abort(new IOException("The client closed the response."));
        }
    }

    private void CompleteBody(Exception? error)
    {
        lock (gate)
        {
            if (bodyCompleted)
            {
                return;
            }

            bodyCompleted = true;
        }

        pipe.Writer.Complete(error);
    }

    /// <summary>
    /// The response's writer: the first write starts the response; a flush sends the headers and lets the client
    /// have the response; writes past <see cref="FlushThreshold"/> flush, so the pipe's back-pressure holds.
    /// </summary>
    private sealed class ResponseBodyWriter(InProcessExchange exchange, PipeWriter inner) : PipeWriter
    {
        private long unflushed;

        public override bool CanGetUnflushedBytes => inner.CanGetUnflushedBytes;

        public override long UnflushedBytes => inner.UnflushedBytes;

        public override void Advance(int bytes)
        {
            inner.Advance(bytes);
            unflushed += bytes;
        }

        public override Memory<byte> GetMemory(int sizeHint = 0)
        {
            exchange.MarkStarted();
            return inner.GetMemory(sizeHint);
        }

        public override Span<byte> GetSpan(int sizeHint = 0)
        {
            exchange.MarkStarted();
            return inner.GetSpan(sizeHint);
        }

        public override void CancelPendingFlush() => inner.CancelPendingFlush();

        public override void Complete(Exception? exception = null) => exchange.CompleteBody(exception);

        public override ValueTask CompleteAsync(Exception? exception = null)
        {
            exchange.CompleteBody(exception);
            return ValueTask.CompletedTask;
        }

        public override async ValueTask<FlushResult> FlushAsync(CancellationToken cancellationToken = default)
        {
            // The headers go first: a flush that waits for the reader must not wait for a client not yet given the response.
            await exchange.SendHeadersAsync().ConfigureAwait(false);
            unflushed = 0;
            if (exchange.bodyCompleted || exchange.aborted.IsCancellationRequested)
            {
                return new FlushResult(isCanceled: false, isCompleted: true);
            }

            return await inner.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        public override ValueTask<FlushResult> WriteAsync(ReadOnlyMemory<byte> source, CancellationToken cancellationToken = default)
        {
            exchange.MarkStarted();
            inner.Write(source.Span);
            unflushed += source.Length;
            return unflushed >= FlushThreshold ? FlushAsync(cancellationToken) : ValueTask.FromResult(new FlushResult(isCanceled: false, isCompleted: false));
        }
    }
}
