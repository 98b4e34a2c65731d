using System.Globalization;
using System.Text;

namespace Kubesharp.ApiMachinery.Cel;

/// <summary>Durations as CEL writes them (Go's syntax: "1h30m", "1.5s", "300ms", "-2us").</summary>
internal static class CelDurations
{
    public static bool TryParse(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var span = text.AsSpan();
        var negative = false;
        if (span.Length > 0 && span[0] is '-' or '+')
        {
            negative = span[0] == '-';
            span = span[1..];
        }

        if (span.SequenceEqual("0"))
        {
            return true;
        }

        if (span.Length == 0)
        {
            return false;
        }

        decimal total = 0;
        while (span.Length > 0)
        {
            var i = 0;
            while (i < span.Length && (char.IsAsciiDigit(span[i]) || span[i] == '.'))
            {
                i++;
            }

            if (i == 0 || !decimal.TryParse(span[..i], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var number))
            {
                return false;
            }

            span = span[i..];
            var j = 0;
            while (j < span.Length && !char.IsAsciiDigit(span[j]) && span[j] != '.')
            {
                j++;
            }

            decimal? ticksPerUnit = span[..j] switch
            {
                "h" => TimeSpan.TicksPerHour,
                "m" => TimeSpan.TicksPerMinute,
                "s" => TimeSpan.TicksPerSecond,
                "ms" => TimeSpan.TicksPerMillisecond,
                "us" or "µs" or "μs" => 10,
                "ns" => 0.01m,
                _ => null,
            };
            if (ticksPerUnit is null)
            {
                return false;
            }

            total += number * ticksPerUnit.Value;
            span = span[j..];
        }

        if (total > long.MaxValue)
        {
            return false;
        }

        duration = TimeSpan.FromTicks((long)(negative ? -total : total));
        return true;
    }

    public static string Format(TimeSpan duration)
    {
        // CEL's string(duration) is seconds with a fractional part: "90s", "1.5s".
        var seconds = duration.Ticks / (decimal)TimeSpan.TicksPerSecond;
        var builder = new StringBuilder(seconds.ToString("0.#########", CultureInfo.InvariantCulture));
        return builder.Append('s').ToString();
    }
}
