using System.Globalization;

namespace Kubesharp.Scheduler;

/// <summary>Upstream's "0/N nodes are available: …" text: reason counts sorted as strings.</summary>
public static class FailureMessage
{
    public static string Format(int totalNodes, IEnumerable<string> reasonPerNode)
    {
        ArgumentNullException.ThrowIfNull(reasonPerNode);
        var histogram = reasonPerNode.GroupBy(r => r, StringComparer.Ordinal)
            .Select(g => string.Create(CultureInfo.InvariantCulture, $"{g.Count()} {g.Key}"))
            .OrderBy(s => s, StringComparer.Ordinal)
            .ToList();
        return histogram.Count == 0
            ? string.Create(CultureInfo.InvariantCulture, $"0/{totalNodes} nodes are available.")
            : string.Create(CultureInfo.InvariantCulture, $"0/{totalNodes} nodes are available: {string.Join(", ", histogram)}.");
    }
}
