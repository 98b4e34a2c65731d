using System.Text.RegularExpressions;

namespace Kubesharp.Ingress.Gateway;

/// <summary>
/// One header or query parameter match of an HTTPRoute: the name, and the value compared exactly or, for
/// <c>RegularExpression</c>, matched whole by <see cref="Pattern"/>.
/// </summary>
internal sealed record GatewayValueMatch(string Name, string Value, Regex? Pattern)
{
    public bool Matches(string? sent) =>
        sent is not null && (Pattern is null ? string.Equals(sent, Value, StringComparison.Ordinal) : Pattern.IsMatch(sent));

    /// <summary>
    /// A regular expression that must match the whole value. .NET's non-backtracking engine keeps matching linear in
    /// the input, as RE2 does, whatever a route's author writes; constructs it cannot run make the pattern unsupported.
    /// </summary>
    public static Regex? Compile(string pattern, out string? error)
    {
        ArgumentNullException.ThrowIfNull(pattern);
        try
        {
            error = null;
            return new Regex(@"\A(?:" + pattern + @")\z", RegexOptions.CultureInvariant | RegexOptions.NonBacktracking, TimeSpan.FromMilliseconds(100));
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            error = $"regular expression {pattern} is not supported: {e.Message}";
            return null;
        }
    }
}
