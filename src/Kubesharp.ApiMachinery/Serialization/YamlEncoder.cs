using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Kubesharp.ApiMachinery.Serialization;

/// <summary>
/// Writes a JSON tree as block-style YAML, the way kubectl prints <c>-o yaml</c>: keys in their JSON order,
/// strings quoted only when plain text would read as something else.
/// </summary>
public static class YamlEncoder
{
    public static string Encode(JsonNode? node)
    {
        using var text = new StringWriter(CultureInfo.InvariantCulture);
        var emitter = new Emitter(text);
        emitter.Emit(new StreamStart());
        emitter.Emit(new DocumentStart(null, null, isImplicit: true));
        Write(emitter, node);
        emitter.Emit(new DocumentEnd(isImplicit: true));
        emitter.Emit(new StreamEnd());
        return text.ToString();
    }

    private static void Write(IEmitter emitter, JsonNode? node)
    {
        switch (node)
        {
            case JsonObject obj:
                emitter.Emit(new MappingStart(null, null, isImplicit: true, MappingStyle.Block));
                foreach (var (key, child) in obj)
                {
                    emitter.Emit(new Scalar(key));
                    Write(emitter, child);
                }

                emitter.Emit(new MappingEnd());
                break;
            case JsonArray array:
                emitter.Emit(new SequenceStart(null, null, isImplicit: true, SequenceStyle.Block));
                foreach (var item in array)
                {
                    Write(emitter, item);
                }

                emitter.Emit(new SequenceEnd());
                break;
            case null:
                emitter.Emit(new Scalar(null, null, "null", ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                break;
            default:
                var value = node.AsValue();
                if (value.GetValueKind() == JsonValueKind.String)
                {
                    var s = value.GetValue<string>();
                    emitter.Emit(new Scalar(null, null, s, NeedsQuotes(s) ? ScalarStyle.DoubleQuoted : ScalarStyle.Any, isPlainImplicit: true, isQuotedImplicit: true));
                }
                else
                {
                    // Numbers and booleans as their JSON text, unquoted.
                    emitter.Emit(new Scalar(null, null, value.ToJsonString(), ScalarStyle.Plain, isPlainImplicit: true, isQuotedImplicit: false));
                }

                break;
        }
    }

    /// <summary>A string that plain YAML would read as a number, boolean or null keeps its quotes.</summary>
    private static bool NeedsQuotes(string s) =>
        s.Length == 0
        || s is "true" or "false" or "True" or "False" or "TRUE" or "FALSE" or "yes" or "no" or "Yes" or "No" or "YES" or "NO" or "on" or "off" or "On" or "Off" or "ON" or "OFF" or "y" or "n" or "Y" or "N" or "null" or "Null" or "NULL" or "~"
        || double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out _)
        || (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase) && s.Length > 2)
        || s.StartsWith("0o", StringComparison.OrdinalIgnoreCase);
}
