using System.Globalization;
using System.Text;

namespace Kubesharp.ControllerManager.Jobs;

/// <summary>Sets of completion indexes in the form Job status uses: sorted ranges such as <c>1,3-5,7</c>.</summary>
internal static class CompletionIndexes
{
    /// <summary>Parses the interval list, keeping only indexes below <paramref name="completions"/>; bad parts are skipped.</summary>
    public static SortedSet<int> Parse(string? value, int completions)
    {
        var result = new SortedSet<int>();
        if (string.IsNullOrEmpty(value))
        {
            return result;
        }

        foreach (var part in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var dash = part.IndexOf('-', StringComparison.Ordinal);
            if (dash < 0)
            {
                if (int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var single) && single < completions)
                {
                    result.Add(single);
                }

                continue;
            }

            if (int.TryParse(part.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var first) &&
                int.TryParse(part.AsSpan(dash + 1), NumberStyles.None, CultureInfo.InvariantCulture, out var last))
            {
                for (var i = first; i <= last && i < completions; i++)
                {
                    result.Add(i);
                }
            }
        }

        return result;
    }

    /// <summary>Formats indexes as ranges; an empty set is null (the field is then absent).</summary>
    public static string? Format(IEnumerable<int> indexes)
    {
        var sorted = indexes.Distinct().Order().ToList();
        if (sorted.Count == 0)
        {
            return null;
        }

        var text = new StringBuilder();
        var start = sorted[0];
        var previous = start;
        foreach (var index in sorted.Skip(1).Append(int.MinValue))
        {
            if (index == previous + 1)
            {
                previous = index;
                continue;
            }

            if (text.Length > 0)
            {
                text.Append(',');
            }

            text.Append(start.ToString(CultureInfo.InvariantCulture));
            if (previous > start)
            {
                text.Append('-').Append(previous.ToString(CultureInfo.InvariantCulture));
            }

            start = previous = index;
        }

        return text.ToString();
    }
}
