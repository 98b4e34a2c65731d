using System.Buffers;

namespace Kubesharp.ApiMachinery.HttpStreams;

/// <summary>Joins two upgraded connections: bytes flow both ways unchanged until either side closes or fails.</summary>
public static class StreamSplice
{
    public static async Task RunAsync(Stream first, Stream second, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(first);
        ArgumentNullException.ThrowIfNull(second);
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var forward = PumpAsync(first, second, done.Token);
        var backward = PumpAsync(second, first, done.Token);
        // Streaming protocols end their sessions in-band, so one side closing ends the whole connection.
        await Task.WhenAny(forward, backward).ConfigureAwait(false);
        await done.CancelAsync().ConfigureAwait(false);
        await Task.WhenAll(forward, backward).ConfigureAwait(false);
    }

    private static async Task PumpAsync(Stream from, Stream to, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(32 * 1024);
        try
        {
            while (true)
            {
                var read = await from.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return;
                }

                await to.WriteAsync(buffer.AsMemory(0, read), cancellationToken).ConfigureAwait(false);
                await to.FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // A closed or reset side ends the pump like an orderly close does.
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }
}
