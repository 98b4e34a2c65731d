namespace Kubesharp.Api.Protobuf;

/// <summary>A protobuf body that is not a well-formed Kubernetes object (a client error, never a server fault).</summary>
public sealed class ProtobufFormatException : FormatException
{
    public ProtobufFormatException()
    {
    }

    public ProtobufFormatException(string message)
        : base(message)
    {
    }

    public ProtobufFormatException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
