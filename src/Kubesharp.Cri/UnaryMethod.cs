using Google.Protobuf;
using Grpc.Core;

namespace Kubesharp.Cri;

/// <summary>
/// Describes a unary method of a protobuf service, for calls made on a channel's own invoker. The generated clients
/// call through an intercepting invoker, and in the native build its generic virtual call to the interceptor is
/// resolved at run time, about a millisecond for each request type, most of them while a node starts. A call from
/// code that names the message types needs no such lookup.
/// </summary>
internal static class UnaryMethod
{
    public static Method<TRequest, TResponse> Create<TRequest, TResponse>(
        string service, string name, MessageParser<TRequest> requestParser, MessageParser<TResponse> responseParser)
        where TRequest : class, IMessage<TRequest>
        where TResponse : class, IMessage<TResponse> =>
        new(MethodType.Unary, service, name, Marshaller(requestParser), Marshaller(responseParser));

    private static Marshaller<T> Marshaller<T>(MessageParser<T> parser)
        where T : class, IMessage<T> =>
        Marshallers.Create<T>(
            (message, context) =>
            {
                context.SetPayloadLength(message.CalculateSize());
                message.WriteTo(context.GetBufferWriter());
                context.Complete();
            },
            context => parser.ParseFrom(context.PayloadAsReadOnlySequence()));
}
