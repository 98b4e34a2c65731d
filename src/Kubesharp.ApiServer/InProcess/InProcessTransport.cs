using System.Net;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.InProcess;

/// <summary>
/// The API server's entry for clients in its own process: requests reach the same request pipeline Kestrel feeds,
/// without TLS, HTTP/2 framing or sockets. It counts the requests in flight so that stopping the server lets them end
/// (and ends those that do not) before the watch cache and the store go away, as Kestrel drains its connections.
/// </summary>
internal sealed class InProcessTransport : IDisposable
{
    private static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource aborting = new();
    private readonly TaskCompletionSource drained = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int active;
    private volatile bool stopped;
    private long connections;

    public InProcessTransport(RequestDelegate pipeline, IServiceProvider services)
    {
        Pipeline = pipeline;
        Services = services;
    }

    public RequestDelegate Pipeline { get; }

    /// <summary>The host's services: a watch ends when the host stops (IHostApplicationLifetime), as it does on Kestrel.</summary>
    public IServiceProvider Services { get; }

    /// <summary>The server's end of the pretended connection: the loopback address and the HTTPS port.</summary>
    public IPEndPoint LocalEndPoint { get; set; } = new(IPAddress.Loopback, 0);

    /// <summary>Ends the requests still running when the server stops.</summary>
    public CancellationToken Aborting => aborting.Token;

    /// <summary>A connection id per handler, as each component would hold its own connection.</summary>
    public string NextConnectionId() => "in-process-" + Interlocked.Increment(ref connections).ToString(System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>Counts a request in; false once the server stops, where a socket would be refused.</summary>
    public bool TryEnter()
    {
        Interlocked.Increment(ref active);
        if (!stopped)
        {
            return true;
        }

        Exit();
        return false;
    }

    public void Exit()
    {
        if (Interlocked.Decrement(ref active) == 0 && stopped)
        {
            drained.TrySetResult();
        }
    }

    /// <summary>Refuses new requests, lets the running ones end for a while (watches end with the host), then aborts the rest.</summary>
    public async Task StopAsync()
    {
        stopped = true;
        if (Volatile.Read(ref active) == 0)
        {
            return;
        }

        if (await WaitDrainedAsync().ConfigureAwait(false))
        {
            return;
        }

        await aborting.CancelAsync().ConfigureAwait(false);
        await WaitDrainedAsync().ConfigureAwait(false);
    }

    private async Task<bool> WaitDrainedAsync()
    {
        try
        {
            await drained.Task.WaitAsync(DrainTimeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return Volatile.Read(ref active) == 0;
        }
    }

    public void Dispose() => aborting.Dispose();
}
