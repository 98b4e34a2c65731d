namespace Kubesharp.Api.Protobuf;

/// <summary>The Kubernetes protobuf envelope: a four-byte magic, then a runtime.Unknown carrying typeMeta and the raw message.</summary>
public static class ProtobufEnvelope
{
    public const string MediaType = "application/vnd.kubernetes.protobuf";

    private static readonly byte[] MagicBytes = "k8s\0"u8.ToArray();

    public static ReadOnlySpan<byte> Magic => MagicBytes;

    /// <summary>True when the bytes start with the envelope's magic (JSON and YAML never do).</summary>
    public static bool HasMagic(ReadOnlySpan<byte> bytes) => bytes.StartsWith(MagicBytes);
}
