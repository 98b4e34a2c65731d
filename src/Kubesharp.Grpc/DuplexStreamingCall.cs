using System.Runtime.CompilerServices;
using Google.Protobuf;

namespace Kubesharp.Grpc;

/// <summary>
/// A bidirectional streaming call in progress: write request messages while reading responses.
/// Dispose ends the call (resetting the stream if it is still open).
/// </summary>
public sealed class DuplexStreamingCall<TRequest, TResponse> : IDisposable
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcCall<TResponse> call;
    private readonly StreamingRequestContent content;
    private readonly SemaphoreSlim writeLock = new(1, 1);
    private bool requestCompleted;

    internal DuplexStreamingCall(GrpcCall<TResponse> call, StreamingRequestContent content)
    {
        this.call = call;
        this.content = content;
        call.HeadersTask.ContinueWith(
            t => content.Fail(t.Exception!.InnerException!),
            CancellationToken.None,
            TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously,
            TaskScheduler.Default);
    }

    /// <summary>Sends one request message; it is flushed to the server before this completes.</summary>
    public async Task WriteAsync(TRequest message, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(message);
        await writeLock.WaitAsync(cancellationToken);
        try
        {
            if (requestCompleted)
            {
                throw new InvalidOperationException("The request stream was already completed.");
            }

            var stream = await GetRequestStreamAsync(cancellationToken);
            var frame = GrpcFraming.Frame(message);
            try
            {
                await stream.WriteAsync(frame, cancellationToken);
                await stream.FlushAsync(cancellationToken);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                throw call.WriteFailure(e);
            }
        }
        finally
        {
            writeLock.Release();
        }
    }

    /// <summary>Ends the request stream (half-close); responses can still be read.</summary>
    public async Task CompleteRequestAsync(CancellationToken cancellationToken = default)
    {
        await writeLock.WaitAsync(cancellationToken);
        try
        {
            requestCompleted = true;
            content.Complete();
        }
        finally
        {
            writeLock.Release();
        }
    }

    /// <summary>The next response message, or null when the server ended the call with OK.</summary>
    public ValueTask<TResponse?> ReadNextAsync(CancellationToken cancellationToken = default) =>
        call.ReadNextAsync(cancellationToken);

    public async IAsyncEnumerable<TResponse> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await call.ReadNextAsync(cancellationToken) is { } message)
        {
            yield return message;
        }
    }

    public async Task<Metadata> GetResponseHeadersAsync(CancellationToken cancellationToken = default)
    {
        await call.HeadersTask.WaitAsync(cancellationToken);
        return call.ResponseHeaders;
    }

    /// <summary>The trailers; complete only after the response stream was read to its end.</summary>
    public Metadata GetTrailers() => call.Trailers;

    public void Dispose()
    {
        if (!call.IsFinished)
        {
            content.Abort();
        }

        call.Dispose();
        writeLock.Dispose();
    }

    private async Task<Stream> GetRequestStreamAsync(CancellationToken cancellationToken)
    {
        var streamTask = content.RequestStream;
        if (!streamTask.IsCompleted)
        {
            await Task.WhenAny(streamTask, call.HeadersTask).WaitAsync(cancellationToken);
            if (!streamTask.IsCompleted)
            {
                // Headers came first; if they already ended the call, there is nothing to write to.
                await call.HeadersTask;
                if (call.IsTrailersOnly)
                {
                    throw new RpcException(StatusCode.Internal, "The server completed the call before the request was sent.");
                }
            }
        }

        try
        {
            return await streamTask.WaitAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw call.WriteFailure(e);
        }
    }
}
