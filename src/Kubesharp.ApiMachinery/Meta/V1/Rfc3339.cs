using System.Diagnostics.CodeAnalysis;
using System.Numerics;

namespace Kubesharp.ApiMachinery.Meta.V1;

/// <summary>
/// The RFC 3339 timestamps of the API: Time is written in UTC to the second
/// (2024-05-01T10:00:00Z), MicroTime in UTC to the microsecond (2024-05-01T10:00:00.123456Z);
/// both read any RFC 3339 timestamp (any offset, up to nanosecond fractions).
/// Every object carries several, so both directions work on the characters or UTF-8 bytes in place, without the
/// substrings and format-string interpretation of the framework's general-purpose parser.
/// </summary>
public static class Rfc3339
{
    /// <summary>Characters of a Time: yyyy-MM-ddTHH:mm:ssZ.</summary>
    public const int TimeLength = 20;

    /// <summary>Characters of a MicroTime: yyyy-MM-ddTHH:mm:ss.ffffffZ.</summary>
    public const int MicroTimeLength = 27;

    public static string FormatTime(DateTimeOffset value) =>
        string.Create(TimeLength, value.UtcDateTime, static (destination, utc) => Write(destination, utc, microseconds: false));

    public static string FormatMicroTime(DateTimeOffset value) =>
        string.Create(MicroTimeLength, value.UtcDateTime, static (destination, utc) => Write(destination, utc, microseconds: true));

    /// <summary>Writes a Time as UTF-8 into <paramref name="destination"/> (at least <see cref="TimeLength"/> bytes); returns the length.</summary>
    public static int FormatTime(DateTimeOffset value, Span<byte> destination) =>
        Write(destination[..TimeLength], value.UtcDateTime, microseconds: false);

    /// <summary>Writes a MicroTime as UTF-8 into <paramref name="destination"/> (at least <see cref="MicroTimeLength"/> bytes); returns the length.</summary>
    public static int FormatMicroTime(DateTimeOffset value, Span<byte> destination) =>
        Write(destination[..MicroTimeLength], value.UtcDateTime, microseconds: true);

    public static DateTimeOffset Parse(string text) =>
        TryParse(text, out var value) ? value : throw new FormatException($"parsing time \"{text}\" as RFC 3339 failed");

    public static bool TryParse([NotNullWhen(true)] string? text, out DateTimeOffset value)
    {
        value = default;
        return text is not null && TryParse(text.AsSpan(), out value);
    }

    /// <summary>Reads yyyy-MM-ddTHH:mm:ss[.fraction](Z|±hh:mm) into UTC; false for anything else or a date that does not exist.</summary>
    public static bool TryParse(ReadOnlySpan<char> text, out DateTimeOffset value) => TryParseCore(text, out value);

    /// <summary>The same as <see cref="TryParse(ReadOnlySpan{char}, out DateTimeOffset)"/> over UTF-8 (a JSON string's bytes).</summary>
    public static bool TryParse(ReadOnlySpan<byte> utf8, out DateTimeOffset value) => TryParseCore(utf8, out value);

    private static bool TryParseCore<T>(ReadOnlySpan<T> text, out DateTimeOffset value)
        where T : unmanaged, IBinaryInteger<T>
    {
        value = default;
        if (text.Length < TimeLength
            || !Is(text[4], '-') || !Is(text[7], '-') || !(Is(text[10], 'T') || Is(text[10], 't')) || !Is(text[13], ':') || !Is(text[16], ':'))
        {
            return false;
        }

        var year = Digits(text, 0, 4);
        var month = Digits(text, 5, 2);
        var day = Digits(text, 8, 2);
        var hour = Digits(text, 11, 2);
        var minute = Digits(text, 14, 2);
        var second = Digits(text, 17, 2);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour is < 0 or > 23 || minute is < 0 or > 59 || second is < 0 or > 59)
        {
            return false;
        }

        var i = 19;
        long fractionTicks = 0;
        if (Is(text[i], '.'))
        {
            // Ticks are 100 ns: digits beyond the seventh are below the resolution and dropped, as Go's nanoseconds are
            // when upstream converts to microseconds.
            var scale = TimeSpan.TicksPerSecond / 10;
            var start = ++i;
            for (; i < text.Length && Digit(text[i]) is var digit and >= 0; i++)
            {
                fractionTicks += digit * scale;
                scale /= 10;
            }

            if (i == start)
            {
                return false;
            }
        }

        long offsetTicks;
        var zone = text[i..];
        if (zone.Length == 1 && (Is(zone[0], 'Z') || Is(zone[0], 'z')))
        {
            offsetTicks = 0;
        }
        else if (zone.Length == 6 && (Is(zone[0], '+') || Is(zone[0], '-')) && Is(zone[3], ':')
            && Digits(zone, 1, 2) is var offsetHours and >= 0 and < 24 && Digits(zone, 4, 2) is var offsetMinutes and >= 0 and < 60)
        {
            offsetTicks = (offsetHours * TimeSpan.TicksPerHour) + (offsetMinutes * TimeSpan.TicksPerMinute);
            if (Is(zone[0], '-'))
            {
                offsetTicks = -offsetTicks;
            }
        }
        else
        {
            return false;
        }

        var utcTicks = new DateTime(year, month, day, hour, minute, second).Ticks + fractionTicks - offsetTicks;
        if (utcTicks < DateTime.MinValue.Ticks || utcTicks > DateTime.MaxValue.Ticks)
        {
            return false;
        }

        value = new DateTimeOffset(utcTicks, TimeSpan.Zero);
        return true;
    }

    private static int Write<T>(Span<T> destination, DateTime utc, bool microseconds)
        where T : unmanaged, IBinaryInteger<T>
    {
        Put(destination, 0, utc.Year, 4);
        destination[4] = T.CreateTruncating('-');
        Put(destination, 5, utc.Month, 2);
        destination[7] = T.CreateTruncating('-');
        Put(destination, 8, utc.Day, 2);
        destination[10] = T.CreateTruncating('T');
        Put(destination, 11, utc.Hour, 2);
        destination[13] = T.CreateTruncating(':');
        Put(destination, 14, utc.Minute, 2);
        destination[16] = T.CreateTruncating(':');
        Put(destination, 17, utc.Second, 2);
        var end = 19;
        if (microseconds)
        {
            destination[19] = T.CreateTruncating('.');
            Put(destination, 20, (int)(utc.Ticks % TimeSpan.TicksPerSecond / TimeSpan.TicksPerMicrosecond), 6);
            end = 26;
        }

        destination[end] = T.CreateTruncating('Z');
        return end + 1;
    }

    private static void Put<T>(Span<T> destination, int start, int number, int width)
        where T : unmanaged, IBinaryInteger<T>
    {
        for (var i = start + width - 1; i >= start; i--)
        {
            destination[i] = T.CreateTruncating('0' + (number % 10));
            number /= 10;
        }
    }

    /// <summary>The number the <paramref name="count"/> digits at <paramref name="start"/> spell, or -1 when one is not a digit.</summary>
    private static int Digits<T>(ReadOnlySpan<T> text, int start, int count)
        where T : unmanaged, IBinaryInteger<T>
    {
        var number = 0;
        for (var i = start; i < start + count; i++)
        {
            if (Digit(text[i]) is not (var digit and >= 0))
            {
                return -1;
            }

            number = (number * 10) + digit;
        }

        return number;
    }

    private static int Digit<T>(T character)
        where T : unmanaged, IBinaryInteger<T> =>
        int.CreateTruncating(character) - '0' is var digit and >= 0 and <= 9 ? digit : -1;

    private static bool Is<T>(T character, char expected)
        where T : unmanaged, IBinaryInteger<T> =>
        int.CreateTruncating(character) == expected;
}
