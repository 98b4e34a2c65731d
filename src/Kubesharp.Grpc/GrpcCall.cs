using System.Net;
using Google.Protobuf;

namespace Kubesharp.Grpc;

/// <summary>
/// One HTTP/2 stream carrying a gRPC call: sends the request, checks the response headers, reads
/// response messages and turns the final status (trailers, trailers-only headers, HTTP status,
/// transport failure, deadline) into either a clean end or an <see cref="RpcException"/>.
/// </summary>
internal sealed class GrpcCall<TResponse> : IDisposable
    where TResponse : class, IMessage<TResponse>
{
    private readonly GrpcChannel channel;
    private readonly MessageParser<TResponse> parser;
    private readonly CancellationToken userToken;
    private readonly CancellationTokenSource? deadlineSource;
    private readonly CancellationTokenSource callSource;
    private Task<HttpResponseMessage>? responseTask;
    private Task? headersTask;
    private HttpResponseMessage? response;
    private Stream? responseStream;
    private string? encoding;
    private bool trailersOnly;
    private Exception? failure;
    private int finished;

    public GrpcCall(GrpcChannel channel, MessageParser<TResponse> parser, CallOptions options, CancellationToken cancellationToken)
    {
        this.channel = channel;
        this.parser = parser;
        userToken = cancellationToken;
        Timeout = RemainingTime(options, channel.TimeProvider);
        if (Timeout is { } timeout)
        {
            deadlineSource = new CancellationTokenSource(timeout > TimeSpan.Zero ? timeout : TimeSpan.Zero, channel.TimeProvider);
            callSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadlineSource.Token);
        }
        else
        {
            callSource = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        }
    }

    public TimeSpan? Timeout { get; }

    public CancellationToken CallToken => callSource.Token;

    public bool IsFinished => Volatile.Read(ref finished) != 0;

    /// <summary>Completes when valid response headers arrived; faults with the call's status otherwise.</summary>
    public Task HeadersTask => headersTask ?? throw new InvalidOperationException("The call has not started.");

    public bool IsTrailersOnly => trailersOnly;

    public Metadata ResponseHeaders => response is null ? new Metadata() : GrpcProtocol.ToMetadata(response.Headers);

    public Metadata Trailers => response is null
        ? new Metadata()
        : GrpcProtocol.ToMetadata(trailersOnly ? response.Headers : response.TrailingHeaders);

    public void Start(HttpRequestMessage request)
    {
        if (Timeout is { } timeout)
        {
            request.Headers.TryAddWithoutValidation(GrpcProtocol.TimeoutHeader, GrpcProtocol.EncodeTimeout(timeout));
        }

        responseTask = channel.SendAsync(request, callSource.Token);
        headersTask = ReceiveHeadersAsync();
    }

    /// <summary>Reads the next response message; null when the server ended the stream with OK.</summary>
    public async ValueTask<TResponse?> ReadNextAsync(CancellationToken cancellationToken)
    {
        // Fail() records the failure before marking the call finished, so a finished call is read first.
        if (IsFinished)
        {
            if (failure is not null)
            {
                throw failure;
            }

            return null;
        }

        await HeadersTask;
        if (trailersOnly)
        {
            Finish();
            return null;
        }

        using var linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(callSource.Token, cancellationToken)
            : null;
        var token = linked?.Token ?? callSource.Token;
        try
        {
            responseStream ??= await response!.Content.ReadAsStreamAsync(token);
            var message = await GrpcFraming.ReadMessageAsync(responseStream, parser, channel.MaxReceiveMessageSize, encoding, token);
            if (message is not null)
            {
                return message;
            }
        }
        catch (OperationCanceledException e) when (cancellationToken.IsCancellationRequested && !callSource.IsCancellationRequested)
        {
            // A read abandoned mid-message leaves the stream unusable, so the call ends with it.
            callSource.Cancel();
            throw Fail(new OperationCanceledException("The read was cancelled.", e, cancellationToken));
        }
        catch (Exception e)
        {
            throw Fail(MapFailure(e));
        }

        var status = GrpcProtocol.ReadStatus(response!.TrailingHeaders);
        if (status is null)
        {
            throw Fail(new RpcException(StatusCode.Internal, "The response ended without a grpc-status trailer."));
        }

        if (status.Value.Code != StatusCode.OK)
        {
            throw Fail(new RpcException(status.Value.Code, status.Value.Message, Trailers, null));
        }

        Finish();
        return null;
    }

    /// <summary>The exception a writer reports when its request stream broke: the call's status when known.</summary>
    public Exception WriteFailure(Exception exception)
    {
        if (failure is not null)
        {
            return failure;
        }

        if (IsFinished)
        {
            return new RpcException(StatusCode.Internal, "The call already completed.", null, exception);
        }

        return MapFailure(exception);
    }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref finished, 1) == 0)
        {
            // Abandoning an unfinished call resets its HTTP/2 stream.
            callSource.Cancel();
        }

        responseStream?.Dispose();
        response?.Dispose();
        callSource.Dispose();
        deadlineSource?.Dispose();
    }

    private async Task ReceiveHeadersAsync()
    {
        try
        {
            response = await responseTask!;
        }
        catch (Exception e)
        {
            throw Fail(MapFailure(e));
        }

        if (response.StatusCode != HttpStatusCode.OK)
        {
            var trailersStatus = GrpcProtocol.ReadStatus(response.Headers);
            throw Fail(trailersStatus is { } s && s.Code != StatusCode.OK
                ? new RpcException(s.Code, s.Message, Trailers, null)
                : new RpcException(GrpcProtocol.FromHttpStatus(response.StatusCode), $"Bad gRPC response: HTTP {(int)response.StatusCode}."));
        }

        var status = GrpcProtocol.ReadStatus(response.Headers);
        if (status is { } headerStatus)
        {
            // Trailers-only: the whole response is one HEADERS frame carrying the status.
            trailersOnly = true;
            if (headerStatus.Code != StatusCode.OK)
            {
                throw Fail(new RpcException(headerStatus.Code, headerStatus.Message, Trailers, null));
            }

            return;
        }

        var contentType = response.Content.Headers.ContentType?.MediaType;
        if (contentType is null || !contentType.StartsWith(GrpcProtocol.ContentType, StringComparison.OrdinalIgnoreCase))
        {
            throw Fail(new RpcException(StatusCode.Internal, $"Bad gRPC response: content type '{contentType}'."));
        }

        encoding = response.Headers.TryGetValues(GrpcProtocol.EncodingHeader, out var values) ? values.FirstOrDefault() : null;
    }

    private Exception MapFailure(Exception exception)
    {
        if (exception is RpcException rpc)
        {
            return rpc;
        }

        if (deadlineSource?.IsCancellationRequested == true)
        {
            return new RpcException(StatusCode.DeadlineExceeded, "The call's deadline passed.", null, exception);
        }

        if (exception is OperationCanceledException)
        {
            if (userToken.IsCancellationRequested)
            {
                // The caller's own cancellation surfaces the .NET way.
                return new OperationCanceledException("The call was cancelled.", exception, userToken);
            }

            return new RpcException(StatusCode.Cancelled, "The call was disposed.", null, exception);
        }

        return GrpcProtocol.FromTransportFailure(exception);
    }

    private Exception Fail(Exception exception)
    {
        failure ??= exception;
        Finish();
        return failure;
    }

    private void Finish() => Volatile.Write(ref finished, 1);

    private static TimeSpan? RemainingTime(CallOptions options, TimeProvider timeProvider)
    {
        TimeSpan? remaining = options.Timeout;
        if (options.Deadline is { } deadline)
        {
            var untilDeadline = deadline - timeProvider.GetUtcNow();
            remaining = remaining is null || untilDeadline < remaining ? untilDeadline : remaining;
        }

        return remaining;
    }
}
