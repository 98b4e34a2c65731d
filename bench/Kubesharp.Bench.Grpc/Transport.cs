using System.Net.Sockets;
using Google.Protobuf;
using Grpc.Core;
using Grpc.Net.Client;
using OursChannel = Kubesharp.Grpc.GrpcChannel;
using OursOptions = Kubesharp.Grpc.CallOptions;

namespace Kubesharp.Bench.Grpc;

/// <summary>A gRPC client under test: the project's own channel or Grpc.Net.Client, each with a 2-minute deadline per call as the CRI client sets.</summary>
internal abstract class Transport : IDisposable
{
    protected static readonly TimeSpan Deadline = TimeSpan.FromMinutes(2);

    public abstract string Name { get; }

    public abstract Task<TResponse> CallAsync<TRequest, TResponse>(BenchMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse>;

    public abstract void Dispose();

    /// <summary>Both clients for an address ("http://host:port" or "unix:///path").</summary>
    public static Transport[] Both(string address) => [new Ours(address), new Library(address)];

    private sealed class Ours(string address) : Transport
    {
        private readonly OursChannel channel = OursChannel.ForAddress(address);

        public override string Name => "Kubesharp.Grpc";

        public override Task<TResponse> CallAsync<TRequest, TResponse>(BenchMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
            channel.UnaryAsync(method.Ours, request, new OursOptions { Timeout = Deadline }, cancellationToken);

        public override void Dispose() => channel.Dispose();
    }

    private sealed class Library : Transport
    {
        private readonly GrpcChannel channel;
        private readonly CallInvoker invoker;

        public Library(string address)
        {
            // The same transport settings as the project's channel: pooled HTTP/2 connections, no proxy, no decompression.
            var handler = new SocketsHttpHandler
            {
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                UseProxy = false,
                UseCookies = false,
                AllowAutoRedirect = false,
            };
            var target = address;
            if (address.StartsWith("unix://", StringComparison.Ordinal))
            {
                var endPoint = new UnixDomainSocketEndPoint(address["unix://".Length..]);
                handler.ConnectCallback = async (_, cancellationToken) =>
                {
                    var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
                    try
                    {
                        await socket.ConnectAsync(endPoint, cancellationToken);
                        return new NetworkStream(socket, ownsSocket: true);
                    }
                    catch
                    {
                        socket.Dispose();
                        throw;
                    }
                };
                target = "http://localhost";
            }

            channel = GrpcChannel.ForAddress(target, new GrpcChannelOptions { HttpHandler = handler, DisposeHttpClient = true, MaxReceiveMessageSize = 256 * 1024 * 1024 });
            invoker = channel.CreateCallInvoker();
        }

        public override string Name => "Grpc.Net.Client";

        public override Task<TResponse> CallAsync<TRequest, TResponse>(BenchMethod<TRequest, TResponse> method, TRequest request, CancellationToken cancellationToken) =>
            invoker.AsyncUnaryCall(method.Library, null, new CallOptions(deadline: DateTime.UtcNow + Deadline, cancellationToken: cancellationToken), request).ResponseAsync;

        public override void Dispose() => channel.Dispose();
    }
}
