using System.Net.Security;

namespace Kubesharp.Grpc;

/// <summary>Transport settings for a <see cref="GrpcChannel"/>.</summary>
public sealed class GrpcChannelOptions
{
    /// <summary>Largest response message accepted; larger ones fail the call with ResourceExhausted.</summary>
    public int MaxReceiveMessageSize { get; init; } = 256 * 1024 * 1024;

    /// <summary>TLS settings for https addresses (client certificate, trust of the server's CA).</summary>
    public SslClientAuthenticationOptions? SslOptions { get; init; }

    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>When set, HTTP/2 PING frames keep long-lived streams (watches) alive through idle periods.</summary>
    public TimeSpan? KeepAlivePingDelay { get; init; }

    /// <summary>Clock for deadlines.</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>Replaces the built-in SocketsHttpHandler (the channel then does not dispose it).</summary>
    public HttpMessageHandler? HttpHandler { get; init; }
}
