using Google.Protobuf;

namespace Kubesharp.Grpc;

/// <summary>Describes one RPC: its full name ("/package.Service/Method") and how to parse its responses.</summary>
public sealed class Method<TRequest, TResponse>
    where TRequest : class, IMessage<TRequest>
    where TResponse : class, IMessage<TResponse>
{
    public Method(string fullName, MessageParser<TResponse> responseParser)
    {
        ArgumentException.ThrowIfNullOrEmpty(fullName);
        ArgumentNullException.ThrowIfNull(responseParser);
        if (fullName[0] != '/' || fullName.IndexOf('/', 1) < 0)
        {
            throw new ArgumentException("A method name looks like '/package.Service/Method'.", nameof(fullName));
        }

        FullName = fullName;
        ResponseParser = responseParser;
    }

    public string FullName { get; }

    public MessageParser<TResponse> ResponseParser { get; }

    public override string ToString() => FullName;
}
