using System.Globalization;
using System.Text.RegularExpressions;

namespace Kubesharp.Ingress.Gateway;

/// <summary>Gateway API's Duration (GEP-2257): one to four parts of up to five digits, each with h, m, s or ms, such as <c>1h30m</c> or <c>500ms</c>.</summary>
internal static partial class GatewayDuration
{
    /// <summary>The duration, or null when the text is not one.</summary>
    public static TimeSpan? Parse(string? text)
    {
        if (text is null || !Whole().IsMatch(text))
        {
            return null;
        }

        var total = TimeSpan.Zero;
        foreach (Match part in Part().Matches(text))
        {
            var value = long.Parse(part.Groups[1].ValueSpan, NumberStyles.None, CultureInfo.InvariantCulture);
            total += part.Groups[2].Value switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "s" => TimeSpan.FromSeconds(value),
                _ => TimeSpan.FromMilliseconds(value),
            };
        }

        return total;
    }

    [GeneratedRegex("^([0-9]{1,5}(h|m|s|ms)){1,4}$", RegexOptions.CultureInvariant)]
    private static partial Regex Whole();

    [GeneratedRegex("([0-9]{1,5})(ms|h|m|s)", RegexOptions.CultureInvariant)]
    private static partial Regex Part();
}
