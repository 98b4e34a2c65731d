using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>ConfigMaps and Secrets: key names, Secret type default, immutability.</summary>
internal sealed partial class ConfigStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    public override bool TracksGeneration => false;

    public override void PrepareForCreate(JsonObject obj)
    {
        if (Resource.Resource == "secrets")
        {
            Default(obj, "type", "Opaque");
            FoldStringData(obj);
        }
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        if (Resource.Resource == "secrets")
        {
            Default(updated, "type", (string?)old["type"] ?? "Opaque");
            FoldStringData(updated);
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        foreach (var field in new[] { "data", "binaryData" })
        {
            if (obj[field] is not JsonObject data)
            {
                continue;
            }

            foreach (var (key, _) in data)
            {
                if (key.Length == 0 || key.Length > 253 || !KeyPattern().IsMatch(key))
                {
                    causes.Add(Invalid($"{field}[{key}]", key, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"));
                }
            }
        }

        ConfigDataSize.Validate(obj, Resource.Resource == "secrets", causes);
        if (old is not null && old["immutable"] is JsonValue immutable && immutable.TryGetValue<bool>(out var wasImmutable) && wasImmutable)
        {
            if (!JsonNode.DeepEquals(old["data"], obj["data"]) || !JsonNode.DeepEquals(old["binaryData"], obj["binaryData"]))
            {
                causes.Add(Forbidden("data", "field is immutable when `immutable` is set"));
            }
        }

        if (old is not null && Resource.Resource == "secrets" && (string?)old["type"] != (string?)obj["type"])
        {
            causes.Add(Invalid("type", (string?)obj["type"] ?? string.Empty, "field is immutable"));
        }
    }

    /// <summary>stringData is write-only: merged into data as base64.</summary>
    private static void FoldStringData(JsonObject obj)
    {
        if (obj["stringData"] is not JsonObject stringData)
        {
            return;
        }

        var data = Ensure(obj, "data");
        foreach (var (key, value) in stringData)
        {
            data[key] = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes((string?)value ?? string.Empty));
        }

        obj.Remove("stringData");
    }

    [GeneratedRegex("^[-._a-zA-Z0-9]+$")]
    private static partial Regex KeyPattern();
}
