using System.Globalization;

namespace Kubesharp.Bench.Common;

/// <summary>Writes one benchmark's section into BENCHMARKS.md, replacing the section of the same heading.</summary>
public static class BenchmarkReport
{
    /// <summary>Replaces (or appends) the section that starts with <paramref name="heading"/> (a "## " line).</summary>
    public static async Task WriteSectionAsync(string path, string heading, string section, CancellationToken cancellationToken = default)
    {
        var existing = File.Exists(path) ? await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false) : "# Benchmarks\n";
        var body = section.TrimEnd() + "\n";
        var start = existing.IndexOf(heading + "\n", StringComparison.Ordinal);
        string updated;
        if (start < 0)
        {
            updated = existing.TrimEnd() + "\n\n" + body;
        }
        else
        {
            var next = existing.IndexOf("\n## ", start + 1, StringComparison.Ordinal);
            updated = existing[..start] + body + (next < 0 ? string.Empty : "\n" + existing[(next + 1)..]);
        }

        await File.WriteAllTextAsync(path, updated, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The value at quantile <paramref name="q"/> (0..1) of <paramref name="values"/>, nearest rank.</summary>
    public static double Percentile(IReadOnlyList<double> values, double q)
    {
        ArgumentNullException.ThrowIfNull(values);
        if (values.Count == 0)
        {
            return double.NaN;
        }

        var sorted = values.Order().ToArray();
        var rank = (int)Math.Ceiling(q * sorted.Length) - 1;
        return sorted[Math.Clamp(rank, 0, sorted.Length - 1)];
    }

    public static string Format(double value, string format) => double.IsNaN(value) ? "–" : value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>A ratio cell: ours over the peer's, two decimals.</summary>
    public static string Ratio(double ours, double peer) => peer > 0 && !double.IsNaN(ours) ? (ours / peer).ToString("0.00", CultureInfo.InvariantCulture) : "–";

    /// <summary>The machine's load average over 1, 5 and 15 minutes ("1.20 3.40 5.60"), for a section's text: on a shared
    /// machine it says how much the figures were disturbed.</summary>
    public static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "unknown";
}
