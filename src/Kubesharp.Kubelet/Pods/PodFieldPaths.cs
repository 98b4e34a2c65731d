using System.Globalization;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;

namespace Kubesharp.Kubelet.Pods;

/// <summary>The downward API: pod fields (fieldRef) and container resources (resourceFieldRef) as strings.</summary>
internal static class PodFieldPaths
{
    /// <summary>The value of a fieldRef, or null when the path is not one the downward API offers.</summary>
    public static string? Resolve(Pod pod, string fieldPath, string? podIp, string? hostIp)
    {
        var meta = pod.Metadata;
        switch (fieldPath)
        {
            case "metadata.name": return meta?.Name ?? "";
            case "metadata.namespace": return meta?.Namespace ?? "";
            case "metadata.uid": return meta?.Uid ?? "";
            case "metadata.labels": return Render(meta?.Labels);
            case "metadata.annotations": return Render(meta?.Annotations);
            case "spec.nodeName": return pod.Spec?.NodeName ?? "";
            case "spec.serviceAccountName": return pod.Spec?.ServiceAccountName ?? "";
            case "status.podIP": return podIp ?? "";
            case "status.podIPs": return podIp ?? "";
            case "status.hostIP": return hostIp ?? "";
            case "status.hostIPs": return hostIp ?? "";
        }

        if (TrySubscript(fieldPath, "metadata.labels", out var label))
        {
            return meta?.Labels?.GetValueOrDefault(label) ?? "";
        }

        if (TrySubscript(fieldPath, "metadata.annotations", out var annotation))
        {
            return meta?.Annotations?.GetValueOrDefault(annotation) ?? "";
        }

        return null;
    }

    /// <summary>A container's request or limit in units of the divisor (rounded up), defaulting limits to the node's capacity.</summary>
    public static string ResolveResource(Container container, ResourceFieldSelector selector, int nodeCpus, long nodeMemory)
    {
        var resource = selector.Resource ?? "";
        var divisor = selector.Divisor is { IsZero: false } d ? d : new Quantity(1);
        var requests = container.Resources?.Requests;
        var limits = container.Resources?.Limits;
        Quantity? value = resource switch
        {
            "limits.cpu" => limits?.TryGetValue("cpu", out var q) == true ? q : new Quantity(nodeCpus),
            "limits.memory" => limits?.TryGetValue("memory", out var q) == true ? q : new Quantity(nodeMemory),
            "limits.ephemeral-storage" => limits?.TryGetValue("ephemeral-storage", out var q) == true ? q : null,
            "requests.cpu" => requests?.TryGetValue("cpu", out var q) == true ? q : Quantity.Zero,
            "requests.memory" => requests?.TryGetValue("memory", out var q) == true ? q : Quantity.Zero,
            "requests.ephemeral-storage" => requests?.TryGetValue("ephemeral-storage", out var q) == true ? q : Quantity.Zero,
            _ => null,
        };
        if (value is null)
        {
            return "0";
        }

        if (resource.EndsWith(".cpu", StringComparison.Ordinal))
        {
            var milli = value.Value.MilliValue();
            var divisorMilli = Math.Max(1, divisor.MilliValue());
            return ((milli + divisorMilli - 1) / divisorMilli).ToString(CultureInfo.InvariantCulture);
        }

        var bytes = value.Value.Value();
        var per = Math.Max(1, divisor.Value());
        return ((bytes + per - 1) / per).ToString(CultureInfo.InvariantCulture);
    }

    private static bool TrySubscript(string path, string prefix, out string key)
    {
        key = "";
        if (path.StartsWith(prefix + "['", StringComparison.Ordinal) && path.EndsWith("']", StringComparison.Ordinal))
        {
            key = path[(prefix.Length + 2)..^2];
            return true;
        }

        return false;
    }

    private static string Render(Dictionary<string, string>? values) =>
        values is null ? "" : string.Join("\n", values.OrderBy(v => v.Key, StringComparer.Ordinal).Select(v => $"{v.Key}=\"{Escape(v.Value)}\""));

    private static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);
}
