using System.Globalization;
using System.Text;
using System.Text.Json;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.Scheduler;

/// <summary>
/// Renders a pod's recorded <see cref="SchedulingVerdict"/> for people: the upstream message, then one line per
/// node and plugin that rejected it, then the per-plugin scores of the best feasible nodes
/// (<c>kubesharp explain pod</c>).
/// </summary>
public static class SchedulingVerdictReport
{
    public static string Render(Pod pod)
    {
        ArgumentNullException.ThrowIfNull(pod);
        var name = $"{pod.Metadata?.Namespace ?? "default"}/{pod.Metadata?.Name}";
        var text = new StringBuilder();
        if (!string.IsNullOrEmpty(pod.Spec?.NodeName))
        {
            text.Append(CultureInfo.InvariantCulture, $"Pod {name} is scheduled on node {pod.Spec.NodeName}.\n");
            return text.ToString();
        }

        if (pod.Metadata?.Annotations?.GetValueOrDefault(SchedulingVerdict.AnnotationKey) is not { Length: > 0 } json)
        {
            var condition = pod.Status?.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled");
            text.Append(CultureInfo.InvariantCulture, $"Pod {name} is pending; the scheduler has recorded no verdict for it yet.\n");
            if (!string.IsNullOrEmpty(condition?.Message))
            {
                text.Append(CultureInfo.InvariantCulture, $"  {condition.Message}\n");
            }

            return text.ToString();
        }

        using var document = JsonDocument.Parse(json);
        var root = document.RootElement;
        text.Append(CultureInfo.InvariantCulture, $"Pod {name} is pending: {String(root, "result")} at attempt {Number(root, "attempt")} ({String(root, "time")}).\n");
        if (String(root, "message") is { Length: > 0 } message)
        {
            text.Append(CultureInfo.InvariantCulture, $"  {message}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"Nodes: {Number(root, "nodes")} in the cluster, {Number(root, "evaluated")} evaluated, {Number(root, "feasible")} feasible.\n");
        var rows = new List<string[]>();
        var omitted = 0L;
        if (root.TryGetProperty("filtered", out var filtered))
        {
            foreach (var group in filtered.EnumerateArray())
            {
                var nodes = group.GetProperty("nodes").EnumerateArray().Select(n => n.GetString() ?? "").ToList();
                omitted += group.GetProperty("count").GetInt64() - nodes.Count;
                foreach (var node in nodes)
                {
                    foreach (var reason in group.GetProperty("reasons").EnumerateArray().Select(r => r.GetString() ?? ""))
                    {
                        var colon = reason.IndexOf(": ", StringComparison.Ordinal);
                        rows.Add(colon < 0 ? [node, "", reason] : [node, reason[..colon], reason[(colon + 2)..]]);
                    }
                }
            }
        }

        if (rows.Count > 0)
        {
            text.Append("\nFiltered out:\n");
            Table(text, ["NODE", "PLUGIN", "REASON"], rows);
            if (omitted > 0)
            {
                text.Append(CultureInfo.InvariantCulture, $"  … and {omitted} more node(s) with the same reasons\n");
            }
        }

        var scored = new List<string[]>();
        if (root.TryGetProperty("scored", out var scores))
        {
            foreach (var node in scores.EnumerateArray())
            {
                var nodeName = String(node, "node") ?? "";
                foreach (var plugin in node.GetProperty("scores").EnumerateObject())
                {
                    scored.Add([nodeName, plugin.Name, plugin.Value.GetInt64().ToString(CultureInfo.InvariantCulture)]);
                }

                scored.Add([nodeName, "(total)", Number(node, "total")]);
            }
        }

        if (scored.Count > 0)
        {
            text.Append("\nFeasible nodes (best scores):\n");
            Table(text, ["NODE", "PLUGIN", "SCORE"], scored);
        }

        return text.ToString();
    }

    private static void Table(StringBuilder text, string[] header, List<string[]> rows)
    {
        var widths = header.Select((h, i) => Math.Max(h.Length, rows.Max(r => r[i].Length))).ToArray();
        foreach (var row in rows.Prepend(header))
        {
            text.Append("  ");
            for (var i = 0; i < row.Length; i++)
            {
                text.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 3));
            }

            text.Append('\n');
        }
    }

    private static string? String(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) ? value.GetString() : null;

    private static string Number(JsonElement element, string property) =>
        element.TryGetProperty(property, out var value) ? value.GetInt64().ToString(CultureInfo.InvariantCulture) : "?";
}
