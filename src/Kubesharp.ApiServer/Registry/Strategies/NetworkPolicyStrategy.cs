using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// NetworkPolicies (networking.k8s.io/v1) defaulted and validated as upstream: policyTypes default to Ingress (plus
/// Egress when there are egress rules), port protocols to TCP; each peer is one ipBlock or selectors; ports, endPort
/// and except ranges are checked.
/// </summary>
internal sealed partial class NetworkPolicyStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    private static readonly string[] Protocols = ["TCP", "UDP", "SCTP"];
    private static readonly string[] PolicyTypes = ["Ingress", "Egress"];

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        ApplyDefaults(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        ApplyDefaults(updated);
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        if (obj["spec"] is not JsonObject spec)
        {
            return;
        }

        ValidateSelector(spec["podSelector"] as JsonObject, "spec.podSelector", causes);
        foreach (var (direction, peersField) in new[] { ("ingress", "from"), ("egress", "to") })
        {
            var rules = spec[direction] as JsonArray;
            for (var i = 0; rules is not null && i < rules.Count; i++)
            {
                var ports = rules[i]?["ports"] as JsonArray;
                for (var j = 0; ports is not null && j < ports.Count; j++)
                {
                    ValidatePort(ports[j] as JsonObject, $"spec.{direction}[{i}].ports[{j}]", causes);
                }

                var peers = rules[i]?[peersField] as JsonArray;
                for (var j = 0; peers is not null && j < peers.Count; j++)
                {
                    ValidatePeer(peers[j] as JsonObject, $"spec.{direction}[{i}].{peersField}[{j}]", causes);
                }
            }
        }

        if (spec["policyTypes"] is JsonArray types)
        {
            if (types.Count > PolicyTypes.Length)
            {
                causes.Add(Invalid("spec.policyTypes", types.ToJsonString(), "may not specify more than two policyTypes"));
                return;
            }

            for (var i = 0; i < types.Count; i++)
            {
                var type = (string?)types[i] ?? string.Empty;
                if (!PolicyTypes.Contains(type))
                {
                    causes.Add(Unsupported($"spec.policyTypes[{i}]", type, PolicyTypes));
                }
            }
        }
    }

    private static void ApplyDefaults(JsonObject obj)
    {
        var spec = Ensure(obj, "spec");
        Default(spec, "podSelector", new JsonObject());
        foreach (var direction in new[] { "ingress", "egress" })
        {
            foreach (var rule in (spec[direction] as JsonArray ?? []).OfType<JsonObject>())
            {
                foreach (var port in (rule["ports"] as JsonArray ?? []).OfType<JsonObject>())
                {
                    Default(port, "protocol", "TCP");
                }
            }
        }

        if (spec["policyTypes"] is not JsonArray { Count: > 0 })
        {
            var types = new JsonArray { (JsonNode)"Ingress" };
            if (spec["egress"] is JsonArray { Count: > 0 })
            {
                types.Add((JsonNode)"Egress");
            }

            spec["policyTypes"] = types;
        }
    }

    private static void ValidatePort(JsonObject? port, string path, List<StatusCause> causes)
    {
        if (port is null)
        {
            return;
        }

        if ((string?)port["protocol"] is { } protocol && !Protocols.Contains(protocol))
        {
            causes.Add(Unsupported(path + ".protocol", protocol, Protocols));
        }

        var endPort = port["endPort"] is JsonValue end && end.TryGetValue<int>(out var endValue) ? endValue : (int?)null;
        switch (port["port"])
        {
            case JsonValue number when number.TryGetValue<int>(out var value):
                if (value is < 1 or > 65535)
                {
                    causes.Add(Invalid(path + ".port", value.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be between 1 and 65535, inclusive"));
                }

                if (endPort is { } last)
                {
                    if (last < value)
                    {
                        causes.Add(Invalid(path + ".endPort", value.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be greater than or equal to `port`"));
                    }

                    if (last is < 1 or > 65535)
                    {
                        causes.Add(Invalid(path + ".endPort", last.ToString(System.Globalization.CultureInfo.InvariantCulture), "must be between 1 and 65535, inclusive"));
                    }
                }

                break;
            case JsonValue name when name.TryGetValue<string>(out var text):
                if (endPort is { } ignored)
                {
                    causes.Add(Invalid(path + ".endPort", ignored.ToString(System.Globalization.CultureInfo.InvariantCulture), "may not be specified when `port` is non-numeric"));
                }

                if (CheckPortName(text) is { } problem)
                {
                    causes.Add(Invalid(path + ".port", text, problem));
                }

                break;
            default:
                if (endPort is { } orphan)
                {
                    causes.Add(Invalid(path + ".endPort", orphan.ToString(System.Globalization.CultureInfo.InvariantCulture), "may not be specified when `port` is not specified"));
                }

                break;
        }
    }

    private static void ValidatePeer(JsonObject? peer, string path, List<StatusCause> causes)
    {
        var count = 0;
        if (peer?["podSelector"] is JsonObject pods)
        {
            count++;
            ValidateSelector(pods, path + ".podSelector", causes);
        }

        if (peer?["namespaceSelector"] is JsonObject namespaces)
        {
            count++;
            ValidateSelector(namespaces, path + ".namespaceSelector", causes);
        }

        if (peer?["ipBlock"] is JsonObject block)
        {
            count++;
            ValidateIpBlock(block, path + ".ipBlock", causes);
        }

        if (count == 0)
        {
            causes.Add(Required(path, "must specify a peer"));
        }
        else if (count > 1 && peer?["ipBlock"] is JsonObject)
        {
            causes.Add(Forbidden(path, "may not specify both ipBlock and another peer"));
        }
    }

    private static void ValidateIpBlock(JsonObject block, string path, List<StatusCause> causes)
    {
        var cidr = (string?)block["cidr"];
        if (string.IsNullOrEmpty(cidr))
        {
            causes.Add(Required(path + ".cidr"));
            return;
        }

        if (!TryParseSloppy(cidr, out var network))
        {
            causes.Add(Invalid(path + ".cidr", cidr, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
            return;
        }

        var except = block["except"] as JsonArray;
        for (var i = 0; except is not null && i < except.Count; i++)
        {
            var text = (string?)except[i] ?? string.Empty;
            if (!TryParseSloppy(text, out var hole))
            {
                causes.Add(Invalid($"{path}.except[{i}]", text, "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"));
                continue;
            }

            if (!network.Contains(hole.BaseAddress) || network.PrefixLength >= hole.PrefixLength)
            {
                causes.Add(Invalid($"{path}.except[{i}]", text, "must be a strict subset of `cidr`"));
            }
        }
    }

    // Upstream accepts host bits in the address (10.0.0.1/8) and masks them off.
    private static bool TryParseSloppy(string text, out IPNetwork network)
    {
        network = default;
        // IPAddress also takes the short forms (10.1 for 10.0.0.1) that a CIDR may not use.
        if (text.Split('/') is not [var address, var length] || (!address.Contains(':', StringComparison.Ordinal) && address.Split('.').Length != 4) || !IPAddress.TryParse(address, out var ip) ||
            !int.TryParse(length, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix) ||
            prefix > (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128))
        {
            return false;
        }

        var bytes = ip.GetAddressBytes();
        for (var bit = prefix; bit < bytes.Length * 8; bit++)
        {
            bytes[bit / 8] &= (byte)~(0x80 >> (bit % 8));
        }

        network = new IPNetwork(new IPAddress(bytes), prefix);
        return true;
    }

    private static void ValidateSelector(JsonObject? selector, string path, List<StatusCause> causes)
    {
        if (selector is null)
        {
            return;
        }

        foreach (var (key, value) in selector["matchLabels"] as JsonObject ?? [])
        {
            if (CheckQualifiedName(key) is { } problem)
            {
                causes.Add(Invalid(path + ".matchLabels", key, problem));
            }

            var text = value?.GetValueKind() == System.Text.Json.JsonValueKind.String ? value.GetValue<string>() : string.Empty;
            if (text.Length > 63 || (text.Length > 0 && !LabelValuePattern().IsMatch(text)))
            {
                causes.Add(Invalid(path + ".matchLabels", text, "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"));
            }
        }

        var expressions = selector["matchExpressions"] as JsonArray;
        for (var i = 0; expressions is not null && i < expressions.Count; i++)
        {
            var at = $"{path}.matchExpressions[{i}]";
            var expression = expressions[i] as JsonObject;
            var key = (string?)expression?["key"] ?? string.Empty;
            if (CheckQualifiedName(key) is { } problem)
            {
                causes.Add(Invalid(at + ".key", key, problem));
            }

            var values = (expression?["values"] as JsonArray)?.Count ?? 0;
            switch ((string?)expression?["operator"])
            {
                case "In" or "NotIn":
                    if (values == 0)
                    {
                        causes.Add(Required(at + ".values", "must be specified when `operator` is 'In' or 'NotIn'"));
                    }

                    break;
                case "Exists" or "DoesNotExist":
                    if (values > 0)
                    {
                        causes.Add(Forbidden(at + ".values", "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"));
                    }

                    break;
                case var other:
                    causes.Add(Invalid(at + ".operator", other ?? string.Empty, "not a valid selector operator"));
                    break;
            }
        }
    }

    private static string? CheckPortName(string name)
    {
        if (name.Length is 0 or > 15)
        {
            return "must be no more than 15 characters";
        }

        if (!PortNamePattern().IsMatch(name))
        {
            return "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)";
        }

        if (!name.Any(char.IsAsciiLetter))
        {
            return "must contain at least one letter (a-z)";
        }

        if (name.StartsWith('-') || name.EndsWith('-'))
        {
            return "must not begin or end with a hyphen";
        }

        return name.Contains("--", StringComparison.Ordinal) ? "must not contain consecutive hyphens" : null;
    }

    [GeneratedRegex("^[-a-z0-9]+$")]
    private static partial Regex PortNamePattern();

    [GeneratedRegex("^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$")]
    private static partial Regex LabelValuePattern();
}
