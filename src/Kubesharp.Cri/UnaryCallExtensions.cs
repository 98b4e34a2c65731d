using Grpc.Core;

namespace Kubesharp.Cri;

/// <summary>
/// How the node awaits a gRPC call: the caller's own cancellation surfaces as <see cref="OperationCanceledException"/>,
/// as everywhere else in .NET, while a passed deadline stays <see cref="RpcException"/> with DeadlineExceeded (the
/// library's ThrowOperationCanceledOnCancellation would turn both into cancellations).
/// </summary>
public static class UnaryCallExtensions
{
    public static async Task<TResponse> CompleteAsync<TResponse>(this AsyncUnaryCall<TResponse> call, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        using (call)
        {
            try
            {
                return await call.ResponseAsync;
            }
            catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException(e.Status.Detail, e, cancellationToken);
            }
        }
    }

    /// <summary>The next message of a server stream; false when the server ended it with OK.</summary>
    public static async Task<bool> MoveNextAsync<TResponse>(this IAsyncStreamReader<TResponse> stream, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            return await stream.MoveNext(cancellationToken);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException(e.Status.Detail, e, cancellationToken);
        }
    }
}
