using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.Api.Protobuf;

/// <summary>
/// Encodes JSON objects as Kubernetes protobuf (the inverse of <see cref="ProtobufDecoder"/>): fields
/// the message does not know are left out, nulls are absent, map entries are written in key order.
/// </summary>
public static class ProtobufEncoder
{
    /// <summary>The enveloped form (magic, runtime.Unknown) of an object whose apiVersion and kind name a known message.</summary>
    public static byte[] EncodeEnvelope(JsonObject obj)
    {
        var apiVersion = (string?)obj["apiVersion"] ?? string.Empty;
        var kind = (string?)obj["kind"] ?? throw new ProtobufFormatException("the object has no kind");
        var message = ProtobufSchema.ForKind(apiVersion, kind) ?? throw new ProtobufFormatException($"no protobuf message is known for {apiVersion}, Kind={kind}");
        var typeMeta = new ProtobufWriter();
        typeMeta.WriteTag(1, ProtobufReader.LengthDelimited);
        typeMeta.WriteString(apiVersion);
        typeMeta.WriteTag(2, ProtobufReader.LengthDelimited);
        typeMeta.WriteString(kind);

        var unknown = new ProtobufWriter();
        unknown.WriteRaw(ProtobufEnvelope.Magic);
        unknown.WriteTag(1, ProtobufReader.LengthDelimited);
        unknown.WriteBytes(typeMeta.WrittenSpan);
        unknown.WriteTag(2, ProtobufReader.LengthDelimited);
        unknown.WriteBytes(Encode(obj, message));
        unknown.WriteTag(3, ProtobufReader.LengthDelimited);
        unknown.WriteString(string.Empty);
        unknown.WriteTag(4, ProtobufReader.LengthDelimited);
        unknown.WriteString(string.Empty);
        return unknown.WrittenSpan.ToArray();
    }

    /// <summary>One message, no envelope.</summary>
    public static byte[] Encode(JsonObject obj, ProtobufMessage message)
    {
        var writer = new ProtobufWriter();
        WriteMessage(writer, obj, message);
        return writer.WrittenSpan.ToArray();
    }

    private static void WriteMessage(ProtobufWriter writer, JsonObject obj, ProtobufMessage message)
    {
        foreach (var field in message.Fields)
        {
            if (field.IsInline)
            {
                writer.WriteTag(field.Number, ProtobufReader.LengthDelimited);
                writer.WriteBytes(Encode(obj, ProtobufSchema.Message(field.Type)!));
                continue;
            }

            if (obj[field.JsonName] is not { } node)
            {
                continue;
            }

            switch (field.Kind)
            {
                case ProtobufFieldKind.Repeated when node is JsonArray items:
                    foreach (var item in items)
                    {
                        WriteValue(writer, field, item);
                    }

                    break;
                case ProtobufFieldKind.Map when node is JsonObject map:
                    var keyField = new ProtobufField(1, "key", "key", field.KeyType ?? "string", ProtobufFieldKind.Singular, null);
                    var valueField = field with { Number = 2, Kind = ProtobufFieldKind.Singular, KeyType = null };
                    foreach (var (key, value) in map.OrderBy(p => p.Key, StringComparer.Ordinal))
                    {
                        var entry = new ProtobufWriter();
                        WriteValue(entry, keyField, keyField.Type == "string" ? JsonValue.Create(key) : JsonNode.Parse(key));
                        WriteValue(entry, valueField, value);
                        writer.WriteTag(field.Number, ProtobufReader.LengthDelimited);
                        writer.WriteBytes(entry.WrittenSpan);
                    }

                    break;
                case ProtobufFieldKind.Singular:
                    WriteValue(writer, field, node);
                    break;
                default:
                    throw new ProtobufFormatException($"field {field.JsonName} of {message.Name} has the wrong JSON shape");
            }
        }
    }

    private static void WriteValue(ProtobufWriter writer, ProtobufField field, JsonNode? node)
    {
        if (node is null)
        {
            return;
        }

        if (field.IsMessage)
        {
            writer.WriteTag(field.Number, ProtobufReader.LengthDelimited);
            writer.WriteBytes(EncodeMessageValue(field.Type, node));
            return;
        }

        writer.WriteTag(field.Number, ProtobufDecoder.WireTypeOf(field.Type));
        switch (field.Type)
        {
            case "string":
                writer.WriteString(Scalar(node, field).GetValue<string>());
                break;
            case "bytes":
                writer.WriteBytes(Convert.FromBase64String(Scalar(node, field).GetValue<string>()));
                break;
            case "bool":
                writer.WriteVarint(Scalar(node, field).GetValue<bool>() ? 1UL : 0UL);
                break;
            case "int32" or "int64" or "enum":
                writer.WriteVarint((ulong)Int64(node, field));
                break;
            case "uint32" or "uint64":
                writer.WriteVarint(Scalar(node, field).GetValue<ulong>());
                break;
            case "sint32" or "sint64":
                var v = Int64(node, field);
                writer.WriteVarint((ulong)((v << 1) ^ (v >> 63)));
                break;
            case "fixed32" or "sfixed32":
                writer.WriteFixed32((uint)Int64(node, field));
                break;
            case "fixed64" or "sfixed64":
                writer.WriteFixed64((ulong)Int64(node, field));
                break;
            case "float":
                writer.WriteFixed32(BitConverter.SingleToUInt32Bits(Scalar(node, field).GetValue<float>()));
                break;
            case "double":
                writer.WriteFixed64(BitConverter.DoubleToUInt64Bits(Scalar(node, field).GetValue<double>()));
                break;
            default:
                throw new ProtobufFormatException($"field {field.Name} has an unsupported type {field.Type}");
        }
    }

    private static byte[] EncodeMessageValue(string type, JsonNode node)
    {
        var writer = new ProtobufWriter();
        switch (type)
        {
            case ProtobufSchema.TimeMessage or ProtobufSchema.MicroTimeMessage:
                var text = node.GetValue<string>();
                if (!DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time))
                {
                    throw new ProtobufFormatException($"\"{text}\" is not an RFC 3339 time");
                }

                var seconds = time.ToUnixTimeSeconds();
                writer.WriteTag(1, ProtobufReader.Varint);
                writer.WriteVarint((ulong)seconds);
                writer.WriteTag(2, ProtobufReader.Varint);
                writer.WriteVarint((ulong)((time.UtcTicks - DateTimeOffset.FromUnixTimeSeconds(seconds).UtcTicks) * 100));
                break;
            case ProtobufSchema.DurationMessage:
                if (!GoDuration.TryParse(node.GetValue<string>(), out var nanoseconds))
                {
                    throw new ProtobufFormatException($"\"{node}\" is not a duration");
                }

                writer.WriteTag(1, ProtobufReader.Varint);
                writer.WriteVarint((ulong)nanoseconds);
                break;
            case ProtobufSchema.QuantityMessage:
                writer.WriteTag(1, ProtobufReader.LengthDelimited);
                writer.WriteString(node is JsonValue q && q.TryGetValue<string>(out var s) ? s : node.ToJsonString());
                break;
            case ProtobufSchema.IntOrStringMessage:
                var isString = node.GetValueKind() == JsonValueKind.String;
                writer.WriteTag(1, ProtobufReader.Varint);
                writer.WriteVarint(isString ? 1UL : 0UL);
                writer.WriteTag(2, ProtobufReader.Varint);
                writer.WriteVarint(isString ? 0UL : (ulong)node.GetValue<int>());
                writer.WriteTag(3, ProtobufReader.LengthDelimited);
                writer.WriteString(isString ? node.GetValue<string>() : string.Empty);
                break;
            case ProtobufSchema.RawExtensionMessage or ProtobufSchema.FieldsV1Message:
                writer.WriteTag(1, ProtobufReader.LengthDelimited);
                writer.WriteBytes(Encoding.UTF8.GetBytes(node.ToJsonString()));
                break;
            default:
                var message = ProtobufSchema.Message(type) ?? throw new ProtobufFormatException($"unknown message type {type}");
                if (message.IsList)
                {
                    WriteMessage(writer, new JsonObject { ["items"] = node.DeepClone() }, message);
                }
                else
                {
                    WriteMessage(writer, node as JsonObject ?? throw new ProtobufFormatException($"a {type} must be a JSON object"), message);
                }

                break;
        }

        return writer.WrittenSpan.ToArray();
    }

    private static JsonValue Scalar(JsonNode node, ProtobufField field) =>
        node as JsonValue ?? throw new ProtobufFormatException($"field {field.JsonName} must be a scalar");

    private static long Int64(JsonNode node, ProtobufField field)
    {
        var value = Scalar(node, field);
        if (value.TryGetValue<long>(out var l))
        {
            return l;
        }

        if (value.TryGetValue<double>(out var d) && d == Math.Floor(d))
        {
            return (long)d;
        }

        if (value.TryGetValue<JsonElement>(out var e) && e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out l))
        {
            return l;
        }

        throw new ProtobufFormatException($"field {field.JsonName} must be an integer");
    }
}
