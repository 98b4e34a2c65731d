namespace Kubesharp.Api.Protobuf;

/// <summary>How a proto field carries values: one, a repeated list, or a map of entry messages.</summary>
public enum ProtobufFieldKind
{
    Singular,
    Repeated,
    Map,
}
