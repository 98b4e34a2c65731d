using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace Kubesharp.ApiMachinery.Meta.V1;

/// <summary>
/// The RFC 3339 timestamps of the API: Time is written in UTC to the second
/// (2024-05-01T10:00:00Z), MicroTime in UTC to the microsecond (2024-05-01T10:00:00.123456Z);
/// both read any RFC 3339 timestamp (any offset, up to nanosecond fractions).
/// </summary>
public static class Rfc3339
{
    public static string FormatTime(DateTimeOffset value) =>
        value.ToUniversalTime().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'Z'", CultureInfo.InvariantCulture);

    public static string FormatMicroTime(DateTimeOffset value) =>
        value.ToUniversalTime().ToString("yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'ffffff'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"parsing time \"{text}\" as RFC 3339 failed");

    public static bool TryParse([NotNullWhen(true)] string? text, out DateTimeOffset value)
    {
        value = default;
        // yyyy-MM-ddTHH:mm:ss[.fraction](Z|±hh:mm)
        if (text is null || text.Length < 20 || text[4] != '-' || text[7] != '-' || text[10] is not ('T' or 't') || text[13] != ':' || text[16] != ':')
        {
            return false;
        }

        var i = 19;
        var fractionEnd = i;
        if (i < text.Length && text[i] == '.')
        {
            fractionEnd = i + 1;
            while (fractionEnd < text.Length && char.IsAsciiDigit(text[fractionEnd]))
            {
                fractionEnd++;
            }

            if (fractionEnd == i + 1)
            {
                return false;
            }
        }

        var zone = text.AsSpan(fractionEnd);
        if (!(zone is "Z" or "z" || (zone.Length == 6 && zone[0] is '+' or '-' && zone[3] == ':')))
        {
            return false;
        }

        // .NET reads at most 7 fractional digits; finer digits are below its resolution.
        var fraction = fractionEnd > i ? text[i..Math.Min(fractionEnd, i + 8)] : "";
        var normalized = text[..10] + "T" + text[11..19] + fraction + (zone is "Z" or "z" ? "+00:00" : zone.ToString());
        var format = fraction.Length == 0 ? "yyyy'-'MM'-'dd'T'HH':'mm':'sszzz" : "yyyy'-'MM'-'dd'T'HH':'mm':'ss" + "." + new string('F', fraction.Length - 1) + "zzz";
        if (!DateTimeOffset.TryParseExact(normalized, format, CultureInfo.InvariantCulture, DateTimeStyles.None, out var parsed))
        {
            return false;
        }

        value = parsed.ToUniversalTime();
        return true;
    }
}
