namespace Kubesharp.Grpc;

/// <summary>
/// A request body that stays open: it hands the HTTP/2 request stream to the writer and ends only when
/// the writer completes, so request messages go out while responses are being read.
/// </summary>
internal sealed class StreamingRequestContent : HttpContent
{
    private readonly TaskCompletionSource<Stream> stream = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource completed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StreamingRequestContent() => Headers.TryAddWithoutValidation("Content-Type", GrpcProtocol.ContentType);

    public Task<Stream> RequestStream => stream.Task;

    public void Complete() => completed.TrySetResult();

    /// <summary>Abandons the request body, which resets the HTTP/2 stream instead of ending it cleanly.</summary>
    public void Abort()
    {
        stream.TrySetCanceled();
        completed.TrySetCanceled();
    }

    public void Fail(Exception exception)
    {
        stream.TrySetException(exception);
        completed.TrySetResult();
    }

    protected override Task SerializeToStreamAsync(Stream target, System.Net.TransportContext? context) =>
        SerializeToStreamAsync(target, context, CancellationToken.None);

    protected override async Task SerializeToStreamAsync(Stream target, System.Net.TransportContext? context, CancellationToken cancellationToken)
    {
        stream.TrySetResult(target);
        try
        {
            await completed.Task.WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The stream ended from the other side; later writes fail on the closed stream.
        }
    }

    protected override bool TryComputeLength(out long length)
    {
        length = -1;
        return false;
    }
}
