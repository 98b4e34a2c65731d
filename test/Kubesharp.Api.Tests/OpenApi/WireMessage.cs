using Google.Protobuf;

namespace Kubesharp.Api.Tests.OpenApi;

/// <summary>
/// One protobuf message read with Google.Protobuf's <see cref="CodedInputStream"/>, independently of the encoder under
/// test: its fields by number, each occurrence kept in order.
/// </summary>
public sealed class WireMessage
{
    private readonly List<(int Number, object Value)> _fields = [];

    public WireMessage(ReadOnlySpan<byte> bytes)
        : this(ByteString.CopyFrom(bytes))
    {
    }

    private WireMessage(ByteString bytes)
    {
        var input = new CodedInputStream(bytes.ToByteArray());
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            var number = WireFormat.GetTagFieldNumber(tag);
            object value = WireFormat.GetTagWireType(tag) switch
            {
                WireFormat.WireType.Varint => input.ReadUInt64(),
                WireFormat.WireType.Fixed64 => input.ReadDouble(),
                WireFormat.WireType.LengthDelimited => input.ReadBytes(),
                WireFormat.WireType.Fixed32 => input.ReadFixed32(),
                var other => throw new InvalidDataException($"unexpected wire type {other} for field {number}"),
            };
            _fields.Add((number, value));
        }
    }

    public bool Has(int number) => _fields.Exists(f => f.Number == number);

    public IEnumerable<WireMessage> Messages(int number) => Bytes(number).Select(b => new WireMessage(b));

    public WireMessage Message(int number) => Messages(number).Single();

    public IEnumerable<string> Strings(int number) => Bytes(number).Select(b => b.ToStringUtf8());

    public string? String(int number) => Strings(number).SingleOrDefault();

    public ulong Varint(int number) => _fields.Where(f => f.Number == number).Select(f => (ulong)f.Value).SingleOrDefault();

    public double Double(int number) => _fields.Where(f => f.Number == number).Select(f => (double)f.Value).SingleOrDefault();

    /// <summary>The entries of a repeated Named* field (name 1, value 2) by name.</summary>
    public Dictionary<string, WireMessage> Named(int number) =>
        Messages(number).ToDictionary(m => m.String(1)!, m => m.Message(2), StringComparer.Ordinal);

    private IEnumerable<ByteString> Bytes(int number) => _fields.Where(f => f.Number == number).Select(f => (ByteString)f.Value);
}
