using System.Globalization;
using System.Text;

namespace Kubesharp.Api.Protobuf;

/// <summary>metav1.Duration's JSON form: Go's duration text ("1h0m0s", "1.5s", "300ms").</summary>
internal static class GoDuration
{
    private const long Microsecond = 1_000;
    private const long Millisecond = 1_000_000;
    private const long Second = 1_000_000_000;

    public static string Format(long nanoseconds)
    {
        if (nanoseconds == 0)
        {
            return "0s";
        }

        var text = new StringBuilder();
        if (nanoseconds < 0)
        {
            text.Append('-');
        }

        var u = nanoseconds == long.MinValue ? (ulong)long.MaxValue + 1 : (ulong)Math.Abs(nanoseconds);
        if (u < Second)
        {
            var (unit, scale, digits) = u < Microsecond ? ("ns", 1UL, 0) : u < Millisecond ? ("µs", (ulong)Microsecond, 3) : ("ms", (ulong)Millisecond, 6);
            AppendFraction(text, u / scale, u % scale, digits);
            return text.Append(unit).ToString();
        }

        var seconds = u / Second;
        var hours = seconds / 3600;
        var minutes = seconds / 60 % 60;
        if (hours > 0)
        {
            text.Append(hours.ToString(CultureInfo.InvariantCulture)).Append('h');
        }

        if (hours > 0 || minutes > 0)
        {
            text.Append(minutes.ToString(CultureInfo.InvariantCulture)).Append('m');
        }

        AppendFraction(text, seconds % 60, u % Second, 9);
        return text.Append('s').ToString();
    }

    public static bool TryParse(string text, out long nanoseconds)
    {
        nanoseconds = 0;
        var s = text.AsSpan();
        var negative = false;
        if (s.Length > 0 && s[0] is '-' or '+')
        {
            negative = s[0] == '-';
            s = s[1..];
        }

        if (s is "0")
        {
            return true;
        }

        if (s.IsEmpty)
        {
            return false;
        }

        decimal total = 0;
        while (!s.IsEmpty)
        {
            var end = 0;
            while (end < s.Length && (char.IsAsciiDigit(s[end]) || s[end] == '.'))
            {
                end++;
            }

            if (end == 0 || !decimal.TryParse(s[..end], NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var value))
            {
                return false;
            }

            s = s[end..];
            var unitEnd = 0;
            while (unitEnd < s.Length && !char.IsAsciiDigit(s[unitEnd]) && s[unitEnd] != '.')
            {
                unitEnd++;
            }

            long? scale = s[..unitEnd] switch
            {
                "ns" => 1,
                "us" or "µs" or "μs" => Microsecond,
                "ms" => Millisecond,
                "s" => Second,
                "m" => 60 * Second,
                "h" => 3600 * Second,
                _ => null,
            };
            if (scale is null)
            {
                return false;
            }

            total += value * scale.Value;
            s = s[unitEnd..];
        }

        if (total > long.MaxValue)
        {
            return false;
        }

        nanoseconds = (long)total * (negative ? -1 : 1);
        return true;
    }

    private static void AppendFraction(StringBuilder text, ulong whole, ulong fraction, int digits)
    {
        text.Append(whole.ToString(CultureInfo.InvariantCulture));
        if (fraction == 0 || digits == 0)
        {
            return;
        }

        text.Append('.').Append(fraction.ToString(CultureInfo.InvariantCulture).PadLeft(digits, '0').TrimEnd('0'));
    }
}
