using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>Services: defaults, cluster IP allocation from the service CIDR (10.43.0.0/16 unless configured) and node port allocation from 30000-32767.</summary>
internal sealed class ServiceStrategy(ApiResource resource, RegistryContext context) : ResourceStrategy(resource)
{
    private readonly Lock _allocationGate = new();

    // Allocations not yet visible in the cache (a create in flight); forgotten after a while.
    private readonly Dictionary<string, DateTimeOffset> _pending = new(StringComparer.Ordinal);

    protected override NameRule NameRule => NameRule.Label1035;

    public override bool TracksGeneration => false;

    public override void PrepareForCreate(JsonObject obj)
    {
        obj["status"] = new JsonObject { ["loadBalancer"] = new JsonObject() };
        var spec = Ensure(obj, "spec");
        ApplyDefaults(spec);
        var type = (string?)spec["type"];
        if (type != "ExternalName")
        {
            var requested = (string?)spec["clusterIP"] ?? (spec["clusterIPs"] as JsonArray)?.FirstOrDefault()?.GetValue<string>();
            if (string.IsNullOrEmpty(requested))
            {
                requested = AllocateClusterIp();
            }
            else if (requested != "None")
            {
                Reserve(requested);
            }

            spec["clusterIP"] = requested;
            spec["clusterIPs"] = new JsonArray(requested);
            if (requested != "None")
            {
                spec["ipFamilies"] ??= new JsonArray("IPv4");
                spec["ipFamilyPolicy"] ??= "SingleStack";
            }
        }

        if (type is "NodePort" or "LoadBalancer" && spec["ports"] is JsonArray ports)
        {
            foreach (var port in ports.OfType<JsonObject>())
            {
                if (port["nodePort"] is null)
                {
                    port["nodePort"] = AllocateNodePort();
                }
            }
        }
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        var spec = Ensure(updated, "spec");
        var oldSpec = old["spec"] as JsonObject;
        ApplyDefaults(spec);
        if (string.IsNullOrEmpty((string?)spec["clusterIP"]) && oldSpec?["clusterIP"] is { } ip)
        {
            spec["clusterIP"] = ip.DeepClone();
            spec["clusterIPs"] = oldSpec["clusterIPs"]?.DeepClone();
            spec["ipFamilies"] ??= oldSpec["ipFamilies"]?.DeepClone();
            spec["ipFamilyPolicy"] ??= oldSpec["ipFamilyPolicy"]?.DeepClone();
        }

        if (spec["ports"] is JsonArray ports && oldSpec?["ports"] is JsonArray oldPorts)
        {
            foreach (var port in ports.OfType<JsonObject>())
            {
                if (port["nodePort"] is null && (string?)spec["type"] is "NodePort" or "LoadBalancer")
                {
                    var match = oldPorts.OfType<JsonObject>().FirstOrDefault(p => JsonNode.DeepEquals(p["port"], port["port"]) && (string?)p["protocol"] == (string?)port["protocol"]);
                    port["nodePort"] = match?["nodePort"]?.DeepClone() ?? AllocateNodePort();
                }
            }
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject;
        var type = (string?)spec?["type"] ?? "ClusterIP";
        if (type is not ("ClusterIP" or "NodePort" or "LoadBalancer" or "ExternalName"))
        {
            causes.Add(Unsupported("spec.type", type, ["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"]));
        }

        var headless = (string?)spec?["clusterIP"] == "None";
        if (type != "ExternalName" && !headless && (spec?["ports"] is not JsonArray list || list.Count == 0))
        {
            causes.Add(Required("spec.ports"));
        }

        if (spec?["ports"] is JsonArray ports)
        {
            for (var i = 0; i < ports.Count; i++)
            {
                var port = ports[i]?["port"];
                if (port is null)
                {
                    causes.Add(Required($"spec.ports[{i}].port"));
                }
                else if (JsonNumber.Int64(port) is not (>= 1 and <= 65535))
                {
                    causes.Add(Invalid($"spec.ports[{i}].port", port.ToJsonString(), "must be between 1 and 65535, inclusive"));
                }

                if (ports.Count > 1 && string.IsNullOrEmpty((string?)ports[i]?["name"]))
                {
                    causes.Add(Required($"spec.ports[{i}].name"));
                }
            }
        }

        if (old?["spec"]?["clusterIP"] is { } oldIp && (string?)oldIp is { Length: > 0 } oldValue && (string?)spec?["clusterIP"] != oldValue && type != "ExternalName")
        {
            causes.Add(Invalid("spec.clusterIPs[0]", (string?)spec?["clusterIP"] ?? string.Empty, "may not change once set"));
        }
    }

    private bool TryPend(string value)
    {
        var now = context.TimeProvider.GetUtcNow();
        foreach (var (key, at) in _pending.ToList())
        {
            if (now - at > TimeSpan.FromSeconds(30))
            {
                _pending.Remove(key);
            }
        }

        return _pending.TryAdd(value, now);
    }

    private static void ApplyDefaults(JsonObject spec)
    {
        Default(spec, "type", "ClusterIP");
        Default(spec, "sessionAffinity", "None");
        if ((string?)spec["type"] != "ExternalName")
        {
            Default(spec, "internalTrafficPolicy", "Cluster");
        }

        if ((string?)spec["type"] is "NodePort" or "LoadBalancer")
        {
            Default(spec, "externalTrafficPolicy", "Cluster");
        }

        if (spec["ports"] is JsonArray ports)
        {
            foreach (var port in ports.OfType<JsonObject>())
            {
                Default(port, "protocol", "TCP");
                if (port["targetPort"] is null && port["port"] is { } p)
                {
                    port["targetPort"] = p.DeepClone();
                }
            }
        }
    }

    private HashSet<string> UsedClusterIps()
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var services = context.Cache.For(Resource).Snapshot;
        foreach (var service in services.Values)
        {
            if (service.Root.TryGetProperty("spec", out var spec) && spec.TryGetProperty("clusterIP", out var ip) && ip.ValueKind == JsonValueKind.String)
            {
                used.Add(ip.GetString()!);
            }
        }

        return used;
    }

    private void Reserve(string ip)
    {
        lock (_allocationGate)
        {
            if (!context.Options.ServiceCidr.Contains(ip))
            {
                throw StatusError.Invalid("Service", string.Empty, string.Empty, [new StatusCause("FieldValueInvalid", $"Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: the provided IP ({ip}) is not in the valid range. The range of valid IPs is {context.Options.ServiceCidr}", "spec.clusterIPs")]);
            }

            if (UsedClusterIps().Contains(ip) || !TryPend(ip))
            {
                throw StatusError.Invalid("Service", string.Empty, string.Empty, [new StatusCause("FieldValueInvalid", $"Invalid value: []string{{\"{ip}\"}}: failed to allocate IP {ip}: provided IP is already allocated", "spec.clusterIPs")]);
            }
        }
    }

    private string AllocateClusterIp()
    {
        lock (_allocationGate)
        {
            var used = UsedClusterIps();
            var range = context.Options.ServiceCidr;
            // .1 is the kubernetes Service and .10 is customarily DNS; dynamic allocation starts above them.
            for (uint offset = 11; offset < range.Size - 1; offset++)
            {
                var candidate = range.Address(offset).ToString();
                if (!used.Contains(candidate) && TryPend(candidate))
                {
                    return candidate;
                }
            }
        }

        throw new StatusError(500, "InternalError", "Internal error occurred: failed to allocate a serviceIP: range is full");
    }

    private int AllocateNodePort()
    {
        lock (_allocationGate)
        {
            var used = new HashSet<long>();
            foreach (var service in context.Cache.For(Resource).Snapshot.Values)
            {
                if (service.Root.TryGetProperty("spec", out var spec) && spec.TryGetProperty("ports", out var ports) && ports.ValueKind == JsonValueKind.Array)
                {
                    foreach (var port in ports.EnumerateArray())
                    {
                        if (port.TryGetProperty("nodePort", out var np) && np.TryGetInt64(out var n))
                        {
                            used.Add(n);
                        }
                    }
                }
            }

            for (var port = 30000; port <= 32767; port++)
            {
                if (!used.Contains(port) && TryPend($"np{port}"))
                {
                    return port;
                }
            }
        }

        throw new StatusError(500, "InternalError", "Internal error occurred: failed to allocate a nodePort: range is full");
    }
}
