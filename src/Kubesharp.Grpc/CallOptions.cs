namespace Kubesharp.Grpc;

/// <summary>Per-call settings. A deadline is enforced locally and sent to the server as grpc-timeout.</summary>
public sealed record CallOptions
{
    public static CallOptions Default { get; } = new();

    /// <summary>Extra request headers (lower-case keys; "-bin" keys carry base64 values).</summary>
    public Metadata? Headers { get; init; }

    /// <summary>How long the call may take, from when it starts.</summary>
    public TimeSpan? Timeout { get; init; }

    /// <summary>An absolute deadline; when both this and <see cref="Timeout"/> are set the earlier wins.</summary>
    public DateTimeOffset? Deadline { get; init; }
}
