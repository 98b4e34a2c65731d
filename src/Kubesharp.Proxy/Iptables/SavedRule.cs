namespace Kubesharp.Proxy.Iptables;

/// <summary>
/// One rule as <c>iptables-save</c> (or <c>iptables -S</c>) prints it: its table (empty under <c>-S</c>), the chain it
/// is appended to, the target of its last <c>-j</c> and the text of its comment match, when it has them.
/// </summary>
public readonly record struct SavedRule(string Table, string Chain, string? Target, string? Comment)
{
    /// <summary>The rules in <paramref name="saved"/>, in order, each with the table the last <c>*table</c> line opened.</summary>
    public static IEnumerable<SavedRule> Parse(string saved)
    {
        ArgumentNullException.ThrowIfNull(saved);
        var table = string.Empty;
        foreach (var line in saved.Split('\n'))
        {
            if (line.StartsWith('*'))
            {
                table = line[1..].Trim();
            }
            else if (line.StartsWith("-A ", StringComparison.Ordinal))
            {
                var words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                var jump = Array.LastIndexOf(words, "-j");
                var comment = Array.IndexOf(words, "--comment");
                yield return new SavedRule(
                    table,
                    words[1],
                    jump > 0 && jump + 1 < words.Length ? words[jump + 1] : null,
                    comment > 0 && comment + 1 < words.Length ? words[comment + 1].Trim('"') : null);
            }
        }
    }
}
