using System.Globalization;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kubesharp.ApiMachinery.Errors;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Kubesharp.ApiMachinery.Serialization;

/// <summary>
/// Decodes YAML into JSON trees at the event level, resolving plain scalars as upstream does (YAML 1.1 booleans,
/// integers with base prefixes, floats, nulls) and enforcing <see cref="DecodingLimits"/>: alias expansion is
/// priced before any copy is made, so alias bombs fail after bounded work. Errors are 400 BadRequest.
/// </summary>
public static partial class YamlDecoder
{
    /// <summary>Decodes the first document of <paramref name="yaml"/> (null when there is none or it is empty).</summary>
    public static JsonNode? Decode(string yaml, DecodingLimits? limits = null) =>
        Decode(yaml, limits, firstOnly: true).FirstOrDefault();

    /// <summary>Decodes every non-empty document of a multi-document stream (<c>---</c> separated).</summary>
    public static IReadOnlyList<JsonNode> DecodeAll(string yaml, DecodingLimits? limits = null) =>
        Decode(yaml, limits, firstOnly: false).OfType<JsonNode>().ToList();

    private static List<JsonNode?> Decode(string yaml, DecodingLimits? limits, bool firstOnly)
    {
        ArgumentNullException.ThrowIfNull(yaml);
        limits ??= DecodingLimits.Default;
        var documents = new List<JsonNode?>();
        try
        {
            var parser = new Parser(new StringReader(yaml));
            parser.Consume<StreamStart>();
            while (parser.TryConsume<DocumentStart>(out _))
            {
                var document = new DocumentReader(parser, limits);
                var node = document.ReadNode(0).Node;
                parser.Consume<DocumentEnd>();
                if (node is not null || !firstOnly)
                {
                    documents.Add(node);
                }

                if (firstOnly && documents.Count > 0)
                {
                    break;
                }

                if (documents.Count > limits.MaxDocuments)
                {
                    throw StatusException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"yaml: more than {limits.MaxDocuments} documents"));
                }
            }
        }
        catch (YamlException e)
        {
            var message = e.InnerException is YamlException inner ? inner.Message : e.Message;
            throw StatusException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"error converting YAML to JSON: yaml: line {e.Start.Line}: {message}"));
        }
        catch (ArgumentException)
        {
            // The scanner turns escapes such as "\udc00\ud800" into characters without checking them first.
            throw StatusException.BadRequest("error converting YAML to JSON: yaml: invalid Unicode escape in a quoted scalar");
        }

        return documents;
    }

    private sealed class DocumentReader(IParser parser, DecodingLimits limits)
    {
        private readonly Dictionary<string, (JsonNode? Node, long Count)> _anchors = new(StringComparer.Ordinal);
        private long _nodes;
        private long _aliasNodes;

        public (JsonNode? Node, long Count) ReadNode(int depth)
        {
            if (++_nodes > limits.MaxNodes)
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture, $"document has more than {limits.MaxNodes} values"));
            }

            if (parser.TryConsume<AnchorAlias>(out var alias))
            {
                return Expand(alias);
            }

            if (parser.TryConsume<Scalar>(out var scalar))
            {
                var value = Resolve(scalar);
                Remember(scalar.Anchor, value, 1);
                return (value, 1);
            }

            if (parser.TryConsume<SequenceStart>(out var sequenceStart))
            {
                CheckDepth(depth + 1);
                var array = new JsonArray();
                long count = 1;
                while (!parser.TryConsume<SequenceEnd>(out _))
                {
                    var (item, itemCount) = ReadNode(depth + 1);
                    array.Add(item);
                    count += itemCount;
                }

                Remember(sequenceStart.Anchor, array, count);
                return (array, count);
            }

            if (parser.TryConsume<MappingStart>(out var mappingStart))
            {
                CheckDepth(depth + 1);
                var obj = new JsonObject();
                long count = 1;
                List<JsonObject>? merges = null;
                while (!parser.TryConsume<MappingEnd>(out _))
                {
                    var key = ReadKey(out var isMerge);
                    var (value, valueCount) = ReadNode(depth + 1);
                    count += valueCount;
                    if (isMerge)
                    {
                        merges ??= [];
                        switch (value)
                        {
                            case JsonObject m:
                                merges.Add(m);
                                break;
                            case JsonArray list when list.All(i => i is JsonObject):
                                merges.AddRange(list.Cast<JsonObject>());
                                break;
                            default:
                                throw Fail("map merge requires map or sequence of maps as the value");
                        }

                        continue;
                    }

                    obj[key] = value;
                }

                if (merges is not null)
                {
                    foreach (var merge in merges)
                    {
                        foreach (var (key, value) in merge)
                        {
                            if (!obj.ContainsKey(key))
                            {
                                obj[key] = value?.DeepClone();
                            }
                        }
                    }
                }

                Remember(mappingStart.Anchor, obj, count);
                return (obj, count);
            }

            throw Fail($"unexpected {parser.Current?.GetType().Name ?? "end of input"}");
        }

        private string ReadKey(out bool isMerge)
        {
            isMerge = false;
            if (!parser.TryConsume<Scalar>(out var scalar))
            {
                if (parser.Accept<AnchorAlias>(out var alias))
                {
                    parser.MoveNext();
                    if (_anchors.TryGetValue(alias.Value.Value, out var anchored) && anchored.Node is JsonValue v)
                    {
                        return v.ToJsonString().Trim('"');
                    }
                }

                throw Fail("mapping keys must be scalars");
            }

            if (scalar.Style == ScalarStyle.Plain && scalar.Tag.IsEmpty && scalar.Value == "<<")
            {
                isMerge = true;
                return "<<";
            }

            var resolved = Resolve(scalar);
            Remember(scalar.Anchor, resolved, 1);
            return resolved switch
            {
                null => "null",
                JsonValue value when value.TryGetValue(out string? s) => s,
                JsonValue value => value.ToJsonString(),
                _ => scalar.Value,
            };
        }

        private (JsonNode? Node, long Count) Expand(AnchorAlias alias)
        {
            if (!_anchors.TryGetValue(alias.Value.Value, out var anchored))
            {
                throw Fail($"unknown anchor '{alias.Value.Value}' referenced");
            }

            // Priced before copying: a bomb stops here after at most the budget's worth of work.
            _aliasNodes += anchored.Count;
            _nodes += anchored.Count;
            if (_aliasNodes > limits.MaxAliasExpansionNodes || _nodes > limits.MaxNodes)
            {
                throw Fail("document contains excessive aliasing");
            }

            return (anchored.Node?.DeepClone(), anchored.Count);
        }

        private void Remember(AnchorName anchor, JsonNode? node, long count)
        {
            if (!anchor.IsEmpty)
            {
                _anchors[anchor.Value] = (node?.DeepClone(), count);
            }
        }

        private void CheckDepth(int depth)
        {
            if (depth > limits.MaxDepth)
            {
                throw Fail(string.Create(CultureInfo.InvariantCulture, $"exceeded max depth of {limits.MaxDepth}"));
            }
        }

        private StatusException Fail(string message) =>
            StatusException.BadRequest(string.Create(CultureInfo.InvariantCulture, $"error converting YAML to JSON: yaml: line {parser.Current?.Start.Line ?? 0}: {message}"));

        private JsonNode? Resolve(Scalar scalar)
        {
            var value = scalar.Value;
            var tag = scalar.Tag.IsEmpty ? "" : scalar.Tag.Value;
            switch (tag)
            {
                case "tag:yaml.org,2002:str" or "tag:yaml.org,2002:binary" or "!":
                    return JsonValue.Create(value);
                case "tag:yaml.org,2002:null":
                    return null;
                case "tag:yaml.org,2002:bool" or "tag:yaml.org,2002:int" or "tag:yaml.org,2002:float":
                    return ResolvePlain(value) ?? throw Fail($"cannot decode {QuotedString.Quote(value)} as {tag[(tag.LastIndexOf(':') + 1)..]}");
            }

            if (scalar.Style != ScalarStyle.Plain)
            {
                return JsonValue.Create(value);
            }

            return IsNull(value) ? null : ResolvePlain(value) ?? JsonValue.Create(value);
        }

        private JsonValue? ResolvePlain(string value)
        {
            switch (value)
            {
                case "y" or "Y" or "yes" or "Yes" or "YES" or "true" or "True" or "TRUE" or "on" or "On" or "ON":
                    return JsonValue.Create(true);
                case "n" or "N" or "no" or "No" or "NO" or "false" or "False" or "FALSE" or "off" or "Off" or "OFF":
                    return JsonValue.Create(false);
                case ".nan" or ".NaN" or ".NAN" or ".inf" or ".Inf" or ".INF" or "+.inf" or "+.Inf" or "+.INF" or "-.inf" or "-.Inf" or "-.INF":
                    throw Fail($"cannot represent {value} in JSON");
            }

            if (value.Length == 0 || !(char.IsAsciiDigit(value[0]) || value[0] is '-' or '+' or '.'))
            {
                return null;
            }

            var plain = value.Replace("_", "", StringComparison.Ordinal);
            if (TryParseInteger(plain, out var integer))
            {
                return JsonValue.Create(integer);
            }

            if (FloatSyntax().IsMatch(plain) && double.TryParse(plain, NumberStyles.Float, CultureInfo.InvariantCulture, out var d) && double.IsFinite(d))
            {
                return d == Math.Floor(d) && Math.Abs(d) < 1e15 ? JsonValue.Create((long)d) : JsonValue.Create(d);
            }

            return null;
        }

        private static bool IsNull(string value) => value is "" or "~" or "null" or "Null" or "NULL";

        /// <summary>Integers as Go's base-0 parsing reads them: decimal, 0x hex, 0o or leading-0 octal, 0b binary.</summary>
        private static bool TryParseInteger(string text, out long result)
        {
            result = 0;
            var negative = false;
            var s = text;
            if (s.Length > 0 && s[0] is '+' or '-')
            {
                negative = s[0] == '-';
                s = s[1..];
            }

            if (s.Length == 0)
            {
                return false;
            }

            int radix;
            if (s.StartsWith("0x", StringComparison.OrdinalIgnoreCase))
            {
                radix = 16;
                s = s[2..];
            }
            else if (s.StartsWith("0o", StringComparison.OrdinalIgnoreCase))
            {
                radix = 8;
                s = s[2..];
            }
            else if (s.StartsWith("0b", StringComparison.OrdinalIgnoreCase))
            {
                radix = 2;
                s = s[2..];
            }
            else if (s.Length > 1 && s[0] == '0')
            {
                radix = 8;
                s = s[1..];
            }
            else
            {
                radix = 10;
            }

            if (s.Length == 0)
            {
                return false;
            }

            ulong magnitude = 0;
            foreach (var c in s)
            {
                var digit = c switch
                {
                    >= '0' and <= '9' => c - '0',
                    >= 'a' and <= 'f' => c - 'a' + 10,
                    >= 'A' and <= 'F' => c - 'A' + 10,
                    _ => 99,
                };
                if (digit >= radix)
                {
                    return false;
                }

                var next = (magnitude * (ulong)radix) + (ulong)digit;
                if (next / (ulong)radix != magnitude && magnitude != 0 || next > (ulong)long.MaxValue + (negative ? 1UL : 0UL))
                {
                    return false;
                }

                magnitude = next;
            }

            result = negative ? (long)(0 - magnitude) : (long)magnitude;
            return true;
        }
    }

    [GeneratedRegex("^[-+]?(\\.[0-9]+|[0-9]+(\\.[0-9]*)?)([eE][-+]?[0-9]+)?\\z", RegexOptions.CultureInvariant)]
    private static partial Regex FloatSyntax();
}
