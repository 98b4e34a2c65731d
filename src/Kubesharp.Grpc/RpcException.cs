namespace Kubesharp.Grpc;

/// <summary>A call ended with a non-OK gRPC status (from the server, the transport, or a deadline).</summary>
public sealed class RpcException : Exception
{
    public RpcException(StatusCode statusCode, string detail)
        : this(statusCode, detail, trailers: null, innerException: null)
    {
    }

    public RpcException(StatusCode statusCode, string detail, Metadata? trailers, Exception? innerException)
        : base(Format(statusCode, detail), innerException)
    {
        StatusCode = statusCode;
        Detail = detail;
        Trailers = trailers ?? new Metadata();
    }

    public StatusCode StatusCode { get; }

    /// <summary>The server's grpc-message (decoded), or a description of the local failure.</summary>
    public string Detail { get; }

    /// <summary>The trailers the server sent with the status; empty when the failure was local.</summary>
    public Metadata Trailers { get; }

    private static string Format(StatusCode statusCode, string detail) =>
        string.IsNullOrEmpty(detail) ? $"Status({statusCode})" : $"Status({statusCode}): {detail}";
}
