using Cronos;

namespace Kubesharp.ControllerManager.CronJobs;

/// <summary>
/// A CronJob's schedule in its time zone: five cron fields or a macro (<c>@hourly</c>, <c>@daily</c>,
/// <c>@midnight</c>, <c>@weekly</c>, <c>@monthly</c>, <c>@yearly</c>, <c>@annually</c>) or <c>@every DURATION</c>
/// (a Go duration such as <c>1h30m</c>, whole seconds, at least one: a fixed delay from the last whole second), optionally prefixed with
/// <c>CRON_TZ=Zone</c> or <c>TZ=Zone</c>; <c>spec.timeZone</c> wins, and without either the schedule runs in UTC.
/// </summary>
internal sealed partial class CronJobSchedule
{
    private readonly CronExpression? expression;
    private readonly TimeSpan delay;

    private CronJobSchedule(CronExpression? expression, TimeSpan delay, TimeZoneInfo zone)
    {
        this.expression = expression;
        this.delay = delay;
        Zone = zone;
    }

    public TimeZoneInfo Zone { get; }

    /// <summary>Parses the schedule; the error says what is wrong, in the words of the event that reports it.</summary>
    public static CronJobSchedule? TryParse(string? schedule, string? timeZone, out string? error)
    {
        error = null;
        var text = (schedule ?? string.Empty).Trim();
        var zone = TimeZoneInfo.Utc;
        foreach (var prefix in (string[])["CRON_TZ=", "TZ="])
        {
            if (text.StartsWith(prefix, StringComparison.Ordinal))
            {
                var space = text.IndexOf(' ', StringComparison.Ordinal);
                if (space < 0)
                {
                    error = "missing spec after timezone";
                    return null;
                }

                var name = text[prefix.Length..space];
                if (!TimeZoneInfo.TryFindSystemTimeZoneById(name, out var prefixed))
                {
                    error = $"provided bad location {name}: unknown time zone {name}";
                    return null;
                }

                zone = prefixed;
                text = text[(space + 1)..].Trim();
                break;
            }
        }

        if (timeZone is not null)
        {
            if (!TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out var named))
            {
                error = $"unknown time zone {timeZone}";
                return null;
            }

            zone = named;
        }

        if (text.StartsWith("@every ", StringComparison.Ordinal))
        {
            var duration = text["@every ".Length..].Trim();
            if (!TryParseDuration(duration, out var every))
            {
                error = $"failed to parse duration {text}: time: invalid duration \"{duration}\"";
                return null;
            }

            // As upstream's cron library: under a second counts as one, fractions of a second are dropped.
            every = every < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(Math.Floor(every.TotalSeconds));
            return new CronJobSchedule(null, every, zone);
        }

        if (text.StartsWith('@') && text is not ("@yearly" or "@annually" or "@monthly" or "@weekly" or "@daily" or "@midnight" or "@hourly"))
        {
            error = $"unrecognized descriptor: {text}";
            return null;
        }

        if (!CronExpression.TryParse(text, CronFormat.Standard, out var expression))
        {
            error = text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length != 5 && !text.StartsWith('@')
                ? $"expected exactly 5 fields, found {text.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length}: [{text}]"
                : $"invalid schedule: {text}";
            return null;
        }

        return new CronJobSchedule(expression, TimeSpan.Zero, zone);
    }

    /// <summary>The first time after <paramref name="after"/> (exclusive), or null when the schedule never fires again.</summary>
    public DateTimeOffset? Next(DateTimeOffset after) =>
        expression is null ? after.AddTicks(-(after.Ticks % TimeSpan.TicksPerSecond)) + delay : expression.GetNextOccurrence(after, Zone, inclusive: false);

    /// <summary>
    /// The latest time in (<paramref name="earliest"/>, <paramref name="now"/>] and how many there are (counting
    /// stops past 100: upstream's "too many missed start times").
    /// </summary>
    public (DateTimeOffset? MostRecent, int Missed) MostRecent(DateTimeOffset earliest, DateTimeOffset now)
    {
        if (earliest >= now)
        {
            return (null, 0);
        }

        if (expression is null)
        {
            var first = Next(earliest)!.Value;
            if (first > now)
            {
                return (null, 0);
            }

            var times = ((now - first).Ticks / delay.Ticks) + 1;
            return (first + (delay * (times - 1)), (int)Math.Min(times, 101));
        }

        DateTimeOffset? latest = null;
        var count = 0;
        foreach (var t in expression.GetOccurrences(earliest, now, Zone, fromInclusive: false, toInclusive: true))
        {
            count++;
            if (count > 100)
            {
                latest = expression.GetPreviousOccurrence(now, Zone, inclusive: true) ?? latest;
                break;
            }

            latest = t;
        }

        return (latest, count);
    }

    /// <summary>A Go duration: one or more decimal numbers each with a unit (ns, us, µs, ms, s, m, h).</summary>
    private static bool TryParseDuration(string text, out TimeSpan duration)
    {
        duration = TimeSpan.Zero;
        var match = GoDuration().Match(text);
        if (!match.Success)
        {
            return false;
        }

        double ticks = 0;
        for (var i = 0; i < match.Groups[1].Captures.Count; i++)
        {
            var value = double.Parse(match.Groups[1].Captures[i].Value, System.Globalization.CultureInfo.InvariantCulture);
            ticks += match.Groups[2].Captures[i].Value switch
            {
                "h" => value * TimeSpan.TicksPerHour,
                "m" => value * TimeSpan.TicksPerMinute,
                "s" => value * TimeSpan.TicksPerSecond,
                "ms" => value * TimeSpan.TicksPerMillisecond,
                "us" or "µs" => value * 10,
                _ => value / 100,
            };
        }

        duration = TimeSpan.FromTicks((long)ticks);
        return true;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"^(?:(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h))+$", System.Text.RegularExpressions.RegexOptions.CultureInvariant)]
    private static partial System.Text.RegularExpressions.Regex GoDuration();
}
