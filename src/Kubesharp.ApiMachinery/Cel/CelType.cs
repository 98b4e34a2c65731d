namespace Kubesharp.ApiMachinery.Cel;

public enum CelTypeKind
{
    Dyn,
    Null,
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    List,
    Map,
    Object,
    Duration,
    Timestamp,
    Type,
    Optional,
    Quantity,
    Url,
    /// <summary>A type only a host library makes and reads (the authorizer and its checks), told apart by name.</summary>
    Opaque,
}

/// <summary>
/// A CEL type as the checker sees it. Objects carry their declared fields (a custom resource schema's properties);
/// <see cref="MaxSize"/> bounds the elements of a list or map or the length of a string, for cost estimation.
/// </summary>
public sealed class CelType
{
    /// <summary>The largest request the API server accepts: what an unbounded value is estimated from.</summary>
    public const long MaxRequestSize = 3 * 1024 * 1024;

    private CelType(CelTypeKind kind, string name)
    {
        Kind = kind;
        Name = name;
    }

    public CelTypeKind Kind { get; }

    public string Name { get; }

    /// <summary>List element, map value or optional content.</summary>
    public CelType? Element { get; private init; }

    public CelType? Key { get; private init; }

    /// <summary>An object's fields by their CEL names (escaped as upstream: __dash__, __dot__, ...).</summary>
    public IReadOnlyDictionary<string, CelType>? Fields { get; private init; }

    public long MaxSize { get; private init; } = MaxRequestSize;

    public static CelType Dyn { get; } = new(CelTypeKind.Dyn, "dyn");

    public static CelType Null { get; } = new(CelTypeKind.Null, "null_type");

    public static CelType Bool { get; } = new(CelTypeKind.Bool, "bool");

    public static CelType Int { get; } = new(CelTypeKind.Int, "int");

    public static CelType Uint { get; } = new(CelTypeKind.Uint, "uint");

    public static CelType Double { get; } = new(CelTypeKind.Double, "double");

    public static CelType String { get; } = new(CelTypeKind.String, "string");

    public static CelType Bytes { get; } = new(CelTypeKind.Bytes, "bytes");

    public static CelType Duration { get; } = new(CelTypeKind.Duration, "google.protobuf.Duration");

    public static CelType Timestamp { get; } = new(CelTypeKind.Timestamp, "google.protobuf.Timestamp");

    public static CelType TypeType { get; } = new(CelTypeKind.Type, "type");

    public static CelType Quantity { get; } = new(CelTypeKind.Quantity, "kubernetes.Quantity");

    public static CelType Url { get; } = new(CelTypeKind.Url, "kubernetes.URL");

    /// <summary>The type of admission expressions' <c>authorizer</c> variable.</summary>
    public static CelType Authorizer { get; } = new(CelTypeKind.Opaque, "kubernetes.authorization.Authorizer");

    internal static CelType Opaque(string name) => new(CelTypeKind.Opaque, name);

    public static CelType StringOfLength(long maxLength) => new(CelTypeKind.String, "string") { MaxSize = maxLength };

    public static CelType BytesOfLength(long maxLength) => new(CelTypeKind.Bytes, "bytes") { MaxSize = maxLength };

    public static CelType List(CelType element, long maxItems = MaxRequestSize) =>
        new(CelTypeKind.List, $"list({element.Name})") { Element = element, MaxSize = maxItems };

    public static CelType Map(CelType key, CelType value, long maxProperties = MaxRequestSize) =>
        new(CelTypeKind.Map, $"map({key.Name}, {value.Name})") { Key = key, Element = value, MaxSize = maxProperties };

    public static CelType Optional(CelType value) => new(CelTypeKind.Optional, $"optional_type({value.Name})") { Element = value, MaxSize = value.MaxSize };

    /// <summary>An object type with declared fields, as a structural schema's object with properties.</summary>
    public static CelType Object(string name, IReadOnlyDictionary<string, CelType> fields, long maxProperties = MaxRequestSize) =>
        new(CelTypeKind.Object, name) { Fields = fields, MaxSize = maxProperties };

    public override string ToString() => Name;

    /// <summary>Whether a value of type <paramref name="actual"/> may stand where this type is expected.</summary>
    internal bool Accepts(CelType actual)
    {
        if (Kind == CelTypeKind.Dyn || actual.Kind == CelTypeKind.Dyn)
        {
            return true;
        }

        return (Kind, actual.Kind) switch
        {
            (CelTypeKind.List, CelTypeKind.List) => Element!.Accepts(actual.Element!),
            (CelTypeKind.Map, CelTypeKind.Map) => Key!.Accepts(actual.Key!) && Element!.Accepts(actual.Element!),
            // Objects are maps of their fields where a function takes a map.
            (CelTypeKind.Map, CelTypeKind.Object) => Key!.Accepts(String),
            (CelTypeKind.Object, CelTypeKind.Object) => true,
            (CelTypeKind.Optional, CelTypeKind.Optional) => Element!.Accepts(actual.Element!),
            (CelTypeKind.Opaque, CelTypeKind.Opaque) => Name == actual.Name,
            _ => Kind == actual.Kind,
        };
    }

    /// <summary>Two types that may be compared with == (either dynamic, null against anything nullable, or alike).</summary>
    internal static bool Comparable(CelType a, CelType b) =>
        a.Accepts(b) || b.Accepts(a) || a.Kind == CelTypeKind.Null || b.Kind == CelTypeKind.Null;
}
