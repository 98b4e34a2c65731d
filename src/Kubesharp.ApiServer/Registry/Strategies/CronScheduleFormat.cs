using System.Globalization;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>
/// The syntax upstream's API server accepts in a CronJob's <c>spec.schedule</c> (the standard cron parser: five
/// fields, the <c>@hourly</c>-style descriptors, <c>@every DURATION</c>, an optional <c>TZ=</c>/<c>CRON_TZ=</c>
/// prefix), with the parser's own error texts, which upstream returns verbatim in the 422.
/// </summary>
internal static class CronScheduleFormat
{
    private static readonly (string Field, int Min, int Max, string[]? Names)[] Fields =
    [
        ("minute", 0, 59, null),
        ("hour", 0, 23, null),
        ("day of month", 1, 31, null),
        ("month", 1, 12, ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]),
        ("day of week", 0, 6, ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]),
    ];

    /// <summary>Why <paramref name="schedule"/> does not parse, or null when it does.</summary>
    public static string? Error(string schedule)
    {
        if (schedule.Length == 0)
        {
            return "empty spec string";
        }

        var spec = schedule;
        if (spec.StartsWith("TZ=", StringComparison.Ordinal) || spec.StartsWith("CRON_TZ=", StringComparison.Ordinal))
        {
            var space = spec.IndexOf(' ', StringComparison.Ordinal);
            var equals = spec.IndexOf('=', StringComparison.Ordinal);
            var zone = space < 0 ? spec[(equals + 1)..] : spec[(equals + 1)..space];
            if (!IsKnownZone(zone))
            {
                return $"provided bad location {zone}: unknown time zone {zone}";
            }

            spec = space < 0 ? string.Empty : spec[space..].Trim();
        }

        if (spec.StartsWith('@'))
        {
            return DescriptorError(spec);
        }

        var fields = spec.Split([' ', '\t', '\n', '\r', '\v', '\f'], StringSplitOptions.RemoveEmptyEntries);
        if (fields.Length != Fields.Length)
        {
            return $"expected exactly {Fields.Length} fields, found {fields.Length}: [{string.Join(' ', fields)}]";
        }

        for (var i = 0; i < fields.Length; i++)
        {
            foreach (var range in fields[i].Split(',', StringSplitOptions.RemoveEmptyEntries))
            {
                if (RangeError(range, Fields[i].Min, Fields[i].Max, Fields[i].Names) is { } error)
                {
                    return error;
                }
            }
        }

        return null;
    }

    /// <summary>An IANA zone name as Go's time.LoadLocation knows it ("UTC" and "Local" included).</summary>
    public static bool IsKnownZone(string zone) =>
        zone.Length > 0 && (zone is "UTC" or "Local" || (!zone.Contains(' ', StringComparison.Ordinal) && TimeZoneInfo.TryFindSystemTimeZoneById(zone, out _)));

    private static string? DescriptorError(string descriptor)
    {
        if (descriptor is "@yearly" or "@annually" or "@monthly" or "@weekly" or "@daily" or "@midnight" or "@hourly")
        {
            return null;
        }

        const string every = "@every ";
        if (descriptor.StartsWith(every, StringComparison.Ordinal))
        {
            return DurationError(descriptor[every.Length..]) is { } error ? $"failed to parse duration {descriptor}: {error}" : null;
        }

        return $"unrecognized descriptor: {descriptor}";
    }

    /// <summary>Go's time.ParseDuration: an optional sign, then numbers each with a unit, or a bare 0.</summary>
    private static string? DurationError(string text)
    {
        var quoted = "\"" + text + "\"";
        var rest = text.StartsWith('-') || text.StartsWith('+') ? text[1..] : text;
        if (rest == "0")
        {
            return null;
        }

        if (rest.Length == 0)
        {
            return "time: invalid duration " + quoted;
        }

        while (rest.Length > 0)
        {
            var number = 0;
            while (number < rest.Length && (char.IsAsciiDigit(rest[number]) || rest[number] == '.'))
            {
                number++;
            }

            if (number == 0 || rest[..number] == "." || rest[..number].Count(c => c == '.') > 1)
            {
                return "time: invalid duration " + quoted;
            }

            var unit = number;
            while (unit < rest.Length && !char.IsAsciiDigit(rest[unit]) && rest[unit] != '.')
            {
                unit++;
            }

            var name = rest[number..unit];
            if (name.Length == 0)
            {
                return "time: missing unit in duration " + quoted;
            }

            if (name is not ("ns" or "us" or "µs" or "μs" or "ms" or "s" or "m" or "h"))
            {
                return $"time: unknown unit \"{name}\" in duration {quoted}";
            }

            rest = rest[unit..];
        }

        return null;
    }

    private static string? RangeError(string expr, int min, int max, string[]? names)
    {
        var rangeAndStep = expr.Split('/');
        var lowAndHigh = rangeAndStep[0].Split('-');
        int start, end;
        if (lowAndHigh[0] is "*" or "?")
        {
            (start, end) = (min, max);
        }
        else
        {
            if (ParseIntOrName(lowAndHigh[0], names, out start) is { } startError)
            {
                return startError;
            }

            switch (lowAndHigh.Length)
            {
                case 1:
                    end = start;
                    break;
                case 2:
                    if (ParseIntOrName(lowAndHigh[1], names, out end) is { } endError)
                    {
                        return endError;
                    }

                    break;
                default:
                    return $"too many hyphens: {expr}";
            }
        }

        var step = 1;
        switch (rangeAndStep.Length)
        {
            case 1:
                break;
            case 2:
                if (ParseInt(rangeAndStep[1], out step) is { } stepError)
                {
                    return stepError;
                }

                // "N/step" runs from N to the field's maximum.
                if (lowAndHigh.Length == 1)
                {
                    end = max;
                }

                break;
            default:
                return $"too many slashes: {expr}";
        }

        if (start < min)
        {
            return $"beginning of range ({start}) below minimum ({min}): {expr}";
        }

        if (end > max)
        {
            return $"end of range ({end}) above maximum ({max}): {expr}";
        }

        if (start > end)
        {
            return $"beginning of range ({start}) beyond end of range ({end}): {expr}";
        }

        return step == 0 ? $"step of range should be a positive number: {expr}" : null;
    }

    private static string? ParseIntOrName(string expr, string[]? names, out int value)
    {
        var index = names is null ? -1 : Array.IndexOf(names, expr.ToLowerInvariant());
        if (index >= 0)
        {
            // Months count from 1, weekdays from 0 (Sunday).
            value = names!.Length == 12 ? index + 1 : index;
            return null;
        }

        return ParseInt(expr, out value);
    }

    private static string? ParseInt(string expr, out int value)
    {
        var digits = expr.StartsWith('+') || expr.StartsWith('-') ? expr[1..] : expr;
        if (digits.Length == 0 || !digits.All(char.IsAsciiDigit))
        {
            value = 0;
            return $"failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": invalid syntax";
        }

        if (!int.TryParse(expr, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out value))
        {
            return $"failed to parse int from {expr}: strconv.Atoi: parsing \"{expr}\": value out of range";
        }

        return value < 0 ? $"negative number ({value}) not allowed: {expr}" : null;
    }
}
