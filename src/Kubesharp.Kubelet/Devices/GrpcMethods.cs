using Google.Protobuf;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.Kubelet.Devices;

/// <summary>The methods a <see cref="UnixGrpcServer"/> serves, by full name ("/package.Service/Method").</summary>
internal sealed class GrpcMethods
{
    internal Dictionary<string, Func<HttpContext, Task>> Handlers { get; } = new(StringComparer.Ordinal);

    public GrpcMethods Unary<TRequest, TResponse>(string fullName, MessageParser<TRequest> parser, Func<TRequest, CancellationToken, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        Handlers[fullName] = async context =>
        {
            var request = await UnixGrpcServer.ReadRequestAsync(context, parser);
            var response = await handler(request, context.RequestAborted);
            await UnixGrpcServer.WriteMessageAsync(context, response);
        };
        return this;
    }

    /// <summary>A method answering one request with messages the handler writes until it returns.</summary>
    public GrpcMethods ServerStreaming<TRequest, TResponse>(string fullName, MessageParser<TRequest> parser, Func<TRequest, Func<TResponse, Task>, CancellationToken, Task> handler)
        where TRequest : IMessage<TRequest>
        where TResponse : IMessage<TResponse>
    {
        Handlers[fullName] = async context =>
        {
            var request = await UnixGrpcServer.ReadRequestAsync(context, parser);
            await context.Response.StartAsync(context.RequestAborted);
            await handler(request, message => UnixGrpcServer.WriteMessageAsync(context, message), context.RequestAborted);
        };
        return this;
    }
}
