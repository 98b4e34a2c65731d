using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Http;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// APIServices (apiregistration.k8s.io): named VERSION.GROUP, priorities in upstream's ranges, and either local (no
/// service, no TLS settings) or a service reference whose port defaults to 443.
/// </summary>
internal sealed class ApiServiceStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    protected override NameRule NameRule => NameRule.Path;

    public override void PrepareForCreate(JsonObject obj)
    {
        base.PrepareForCreate(obj);
        Default(obj);
    }

    public override void PrepareForUpdate(JsonObject updated, JsonObject old)
    {
        base.PrepareForUpdate(updated, old);
        Default(updated);
    }

    private static void Default(JsonObject obj)
    {
        if (obj["spec"]?["service"] is JsonObject service)
        {
            Default(service, "port", 443);
        }
    }

    public override void Validate(JsonObject obj, JsonObject? old, List<StatusCause> causes)
    {
        base.Validate(obj, old, causes);
        var spec = obj["spec"] as JsonObject ?? [];
        var group = (string?)spec["group"] ?? string.Empty;
        var version = (string?)spec["version"] ?? string.Empty;
        var name = (string?)obj["metadata"]?["name"] ?? string.Empty;
        var required = version + "." + group;
        if (name.Length > 0 && name != required && !causes.Any(c => c.Field == "metadata.name"))
        {
            causes.Add(Invalid("metadata.name", name, $"must be `spec.version+\".\"+spec.group`: \"{required}\""));
        }

        if (group.Length == 0 && version != "v1")
        {
            causes.Add(Required("spec.group", "only v1 may have an empty group and it better be legacy kube"));
        }
        else if (group.Length > 0 && CheckSubdomain(group) is { } groupProblem)
        {
            causes.Add(Invalid("spec.group", group, groupProblem));
        }

        if (CheckLabel1035(version) is { } versionProblem)
        {
            causes.Add(Invalid("spec.version", version, versionProblem));
        }

        var groupPriority = JsonNumber.Int64(spec["groupPriorityMinimum"]) ?? 0;
        if (groupPriority is <= 0 or > 20000)
        {
            causes.Add(Invalid("spec.groupPriorityMinimum", groupPriority.ToString(CultureInfo.InvariantCulture), "must be positive and less than 20000"));
        }

        var versionPriority = JsonNumber.Int64(spec["versionPriority"]) ?? 0;
        if (versionPriority is <= 0 or > 1000)
        {
            causes.Add(Invalid("spec.versionPriority", versionPriority.ToString(CultureInfo.InvariantCulture), "must be positive and less than 1000"));
        }

        var caBundle = (string?)spec["caBundle"] ?? string.Empty;
        var insecure = spec["insecureSkipTLSVerify"]?.GetValueKind() == System.Text.Json.JsonValueKind.True;
        if (spec["service"] is not JsonObject service)
        {
            if (caBundle.Length > 0)
            {
                causes.Add(Invalid("spec.caBundle", $"{DecodedLength(caBundle)} bytes", "local APIServices may not have a caBundle"));
            }

            if (insecure)
            {
                causes.Add(Invalid("spec.insecureSkipTLSVerify", "true", "local APIServices may not have insecureSkipTLSVerify"));
            }

            return;
        }

        if (string.IsNullOrEmpty((string?)service["namespace"]))
        {
            causes.Add(Required("spec.service.namespace"));
        }

        if (string.IsNullOrEmpty((string?)service["name"]))
        {
            causes.Add(Required("spec.service.name"));
        }

        var port = JsonNumber.Int64(service["port"]) ?? 0;
        if (port is < 1 or > 65535)
        {
            causes.Add(Invalid("spec.service.port", port.ToString(CultureInfo.InvariantCulture), "port is not valid: must be between 1 and 65535, inclusive"));
        }

        if (insecure && caBundle.Length > 0)
        {
            causes.Add(Invalid("spec.insecureSkipTLSVerify", "true", "may not be true if caBundle is present"));
        }
    }

    private static int DecodedLength(string base64)
    {
        try
        {
            return Convert.FromBase64String(base64).Length;
        }
        catch (FormatException)
        {
            return base64.Length;
        }
    }
}
