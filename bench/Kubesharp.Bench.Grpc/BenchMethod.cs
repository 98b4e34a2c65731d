using Google.Protobuf;
using Grpc.Core;

namespace Kubesharp.Bench.Grpc;

/// <summary>One unary method described for both clients, built once as generated stubs build theirs.</summary>
internal sealed class BenchMethod<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public BenchMethod(string fullName, MessageParser<TResponse> parser)
    {
        var slash = fullName.LastIndexOf('/');
        Ours = new Kubesharp.Grpc.Method<TRequest, TResponse>(fullName, parser);
        Library = new Method<TRequest, TResponse>(
            MethodType.Unary,
            fullName[1..slash],
            fullName[(slash + 1)..],
            Marshallers.Create<TRequest>(Serialize, context => throw new NotSupportedException()),
            Marshallers.Create(Serialize, context => parser.ParseFrom(context.PayloadAsReadOnlySequence())));
    }

    public Kubesharp.Grpc.Method<TRequest, TResponse> Ours { get; }

    public Method<TRequest, TResponse> Library { get; }

    // Writes straight into the call's buffer, the way Grpc.Tools' generated code serialises.
    private static void Serialize<T>(T message, SerializationContext context)
        where T : IMessage<T>
    {
        context.SetPayloadLength(message.CalculateSize());
        message.WriteTo(context.GetBufferWriter());
        context.Complete();
    }
}
