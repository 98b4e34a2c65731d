using System.Text.Json;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Admission.Plugins.EventRateLimits;

/// <summary>What one limit counts events by.</summary>
internal enum EventLimitType
{
    Server,
    Namespace,
    User,
    SourceAndObject,
}

/// <summary>One limit: a token bucket of <paramref name="Burst"/> events refilled at <paramref name="Qps"/> per second, per key, for at most <paramref name="CacheSize"/> keys.</summary>
internal sealed record EventLimit(EventLimitType Type, int Qps, int Burst, int CacheSize);

/// <summary>An eventratelimit.admission.k8s.io/v1alpha1 Configuration, checked as upstream checks it.</summary>
internal static class EventRateLimitConfiguration
{
    public const string ApiVersion = "eventratelimit.admission.k8s.io/v1alpha1";

    // upstream's cache size for a limit that names none.
    private const int DefaultCacheSize = 4096;

    /// <exception cref="FormatException">The configuration is missing or invalid.</exception>
    public static IReadOnlyList<EventLimit> Parse(JsonObject? configuration)
    {
        if (configuration is null)
        {
            throw new FormatException("admission plugin EventRateLimit needs its configuration in --admission-control-config-file");
        }

        if ((string?)configuration["apiVersion"] != ApiVersion || (string?)configuration["kind"] != "Configuration")
        {
            throw new FormatException($"the EventRateLimit configuration must be kind Configuration of apiVersion {ApiVersion}");
        }

        if (configuration["limits"] is not JsonArray { Count: > 0 } limits)
        {
            throw new FormatException("EventRateLimit configuration: limits: Required value: at least one limit is required");
        }

        var parsed = new List<EventLimit>();
        for (var i = 0; i < limits.Count; i++)
        {
            var at = $"EventRateLimit configuration: limits[{i}]";
            if (limits[i] is not JsonObject limit)
            {
                throw new FormatException($"{at}: must be an object");
            }

            var typeText = limit["type"]?.GetValueKind() == JsonValueKind.String ? (string?)limit["type"] : null;
            if (typeText is null || !Enum.GetNames<EventLimitType>().Contains(typeText, StringComparer.Ordinal))
            {
                throw new FormatException($"{at}.type: Unsupported value: \"{typeText}\": supported values: \"Server\", \"Namespace\", \"User\", \"SourceAndObject\"");
            }

            var type = Enum.Parse<EventLimitType>(typeText);
            var qps = Integer(limit, "qps", at);
            var burst = Integer(limit, "burst", at);
            var cacheSize = limit["cacheSize"] is null ? 0 : Integer(limit, "cacheSize", at, allowZero: true);
            parsed.Add(new EventLimit(type, qps, burst, cacheSize == 0 ? DefaultCacheSize : cacheSize));
        }

        return parsed;
    }

    private static int Integer(JsonObject limit, string field, string at, bool allowZero = false)
    {
        if (limit[field] is not JsonValue value || value.GetValueKind() != JsonValueKind.Number || !int.TryParse(value.ToJsonString(), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var number) || number < 0 || (number == 0 && !allowZero))
        {
            throw new FormatException($"{at}.{field}: Invalid value: {limit[field]?.ToJsonString() ?? "null"}: must be a positive 32-bit integer");
        }

        return number;
    }
}
