using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace Kubesharp.ApiServer.Http;

/// <summary>
/// Decodes a single YAML document into JSON. Aliases are refused outright (no alias bombs), depth is bounded,
/// plain scalars follow YAML 1.2's JSON schema (true/false/null/numbers) like upstream's decoder.
/// </summary>
internal static class YamlBody
{
    private const int MaxDepth = 100;

    public static JsonObject ToJsonObject(byte[] bytes)
    {
        try
        {
            var parser = new Parser(new StringReader(Encoding.UTF8.GetString(bytes)));
            parser.Consume<StreamStart>();
            if (parser.Accept<StreamEnd>(out _))
            {
                throw StatusError.BadRequest("the request body is empty");
            }

            parser.Consume<DocumentStart>();
            var node = Read(parser, 0);
            parser.Consume<DocumentEnd>();
            return node as JsonObject ?? throw StatusError.BadRequest("the YAML body is not an object");
        }
        catch (YamlException ex)
        {
            throw StatusError.BadRequest($"yaml parse error: {ex.Message}");
        }
    }

    private static JsonNode? Read(IParser parser, int depth)
    {
        if (depth > MaxDepth)
        {
            throw StatusError.BadRequest("yaml parse error: document nested too deeply");
        }

        if (parser.Accept<AnchorAlias>(out _))
        {
            throw StatusError.BadRequest("yaml parse error: aliases are not supported");
        }

        if (parser.TryConsume<Scalar>(out var scalar))
        {
            return ScalarValue(scalar);
        }

        if (parser.TryConsume<SequenceStart>(out _))
        {
            var array = new JsonArray();
            while (!parser.TryConsume<SequenceEnd>(out _))
            {
                array.Add(Read(parser, depth + 1));
            }

            return array;
        }

        if (parser.TryConsume<MappingStart>(out _))
        {
            var obj = new JsonObject();
            while (!parser.TryConsume<MappingEnd>(out _))
            {
                var key = parser.Consume<Scalar>().Value;
                if (obj.ContainsKey(key))
                {
                    throw StatusError.BadRequest($"yaml parse error: duplicate key \"{key}\"");
                }

                obj[key] = Read(parser, depth + 1);
            }

            return obj;
        }

        throw StatusError.BadRequest("yaml parse error: unexpected content");
    }

    private static JsonNode? ScalarValue(Scalar scalar)
    {
        var value = scalar.Value;
        if (scalar.Style is ScalarStyle.SingleQuoted or ScalarStyle.DoubleQuoted or ScalarStyle.Literal or ScalarStyle.Folded)
        {
            return JsonValue.Create(value);
        }

        switch (value)
        {
            case "" or "~" or "null" or "Null" or "NULL":
                return null;
            case "true" or "True" or "TRUE":
                return JsonValue.Create(true);
            case "false" or "False" or "FALSE":
                return JsonValue.Create(false);
        }

        if (long.TryParse(value, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out var integer))
        {
            return JsonValue.Create(integer);
        }

        if (value.Length > 0 && (char.IsDigit(value[0]) || value[0] is '-' or '.') &&
            double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
        {
            return JsonValue.Create(number);
        }

        return JsonValue.Create(value);
    }
}
