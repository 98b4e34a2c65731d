namespace Kubesharp.Api.Protobuf;

/// <summary>
/// One field of a Kubernetes proto message. <see cref="JsonName"/> is empty for Go-embedded structs,
/// whose fields appear inline in the JSON of the enclosing object. <see cref="Type"/> is a scalar kind
/// (string, int32, bytes, …) or the full name of a message; for maps it is the value type.
/// <see cref="OmitsZero"/> marks a scalar held by value (not by pointer) in Go: its zero is not shown in JSON.
/// </summary>
public sealed record ProtobufField(int Number, string Name, string JsonName, string Type, ProtobufFieldKind Kind, string? KeyType, bool OmitsZero = false)
{
    public bool IsMessage => Type.Contains('.', StringComparison.Ordinal);

    public bool IsInline => JsonName.Length == 0;
}
