namespace Kubesharp.Api.Protobuf;

/// <summary>A Kubernetes proto message: its fields by number, and whether it only wraps a JSON array.</summary>
public sealed class ProtobufMessage
{
    private readonly Dictionary<int, ProtobufField> byNumber;
    private readonly Dictionary<string, ProtobufField> byJsonName;

    public ProtobufMessage(string name, IReadOnlyList<ProtobufField> fields, bool isList)
    {
        Name = name;
        Fields = fields;
        IsList = isList;
        byNumber = fields.ToDictionary(f => f.Number);
        byJsonName = fields.Where(f => !f.IsInline).GroupBy(f => f.JsonName, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
    }

    public string Name { get; }

    /// <summary>Fields in number order.</summary>
    public IReadOnlyList<ProtobufField> Fields { get; }

    /// <summary>A Go slice type (ExtraValue, Verbs) encoded as a message with one repeated field: JSON shows the array.</summary>
    public bool IsList { get; }

    public ProtobufField? FieldByNumber(int number) => byNumber.GetValueOrDefault(number);

    public ProtobufField? FieldByJsonName(string name) => byJsonName.GetValueOrDefault(name);
}
