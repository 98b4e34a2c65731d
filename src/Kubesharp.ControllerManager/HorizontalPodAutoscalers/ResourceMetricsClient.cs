using System.Globalization;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery;
using Kubesharp.Client;

namespace Kubesharp.ControllerManager.HorizontalPodAutoscalers;

/// <summary>Pod usage from the resource metrics API (metrics.k8s.io/v1beta1 PodMetrics), as upstream's metrics client reads it.</summary>
internal sealed class ResourceMetricsClient(KubernetesClient client)
{
    /// <summary>
    /// Each pod's summed container usage of <paramref name="resource"/> in thousandths of its unit, by pod name; a pod
    /// with a container that reports no such usage is left out.
    /// </summary>
    public async Task<Dictionary<string, PodMetric>> PodMetricsAsync(string @namespace, string selector, string resource, CancellationToken cancellationToken)
    {
        var path = $"/apis/metrics.k8s.io/v1beta1/namespaces/{Uri.EscapeDataString(@namespace)}/pods?labelSelector={Uri.EscapeDataString(selector)}";
        JsonObject? list;
        try
        {
            list = await client.GetJsonAsync(path, cancellationToken).ConfigureAwait(false);
        }
        catch (ApiMachinery.Errors.StatusException e)
        {
            throw new MetricComputationException($"unable to fetch metrics from resource metrics API: {e.Message}");
        }

        if (list is null)
        {
            throw new MetricComputationException("unable to fetch metrics from resource metrics API: the server could not find the requested resource (get pods.metrics.k8s.io)");
        }

        var items = (list["items"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (items.Count == 0)
        {
            throw new MetricComputationException("no metrics returned from resource metrics API");
        }

        var result = new Dictionary<string, PodMetric>(StringComparer.Ordinal);
        foreach (var item in items)
        {
            if ((string?)item["metadata"]?["name"] is not { } name)
            {
                continue;
            }

            long sum = 0;
            var complete = true;
            foreach (var container in (item["containers"] as JsonArray ?? []).OfType<JsonObject>())
            {
                if (Quantity.TryParse((string?)container["usage"]?[resource], out var usage))
                {
                    sum += usage.MilliValue();
                }
                else
                {
                    complete = false;
                }
            }

            if (!complete)
            {
                continue;
            }

            var timestamp = DateTimeOffset.TryParse((string?)item["timestamp"], CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : DateTimeOffset.MinValue;
            result[name] = new PodMetric(sum, timestamp, Window((string?)item["window"]));
        }

        return result;
    }

    /// <summary>A Go duration such as "15s", "1m0s" or "1.5s" (seconds and minutes are all metrics report).</summary>
    internal static TimeSpan Window(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return TimeSpan.Zero;
        }

        var total = TimeSpan.Zero;
        var number = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsDigit(c) || c == '.')
            {
                continue;
            }

            var value = double.TryParse(text.AsSpan(number, i - number), NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0;
            var unit = text[i..].StartsWith("ms", StringComparison.Ordinal) ? "ms" : c.ToString();
            total += unit switch
            {
                "h" => TimeSpan.FromHours(value),
                "m" => TimeSpan.FromMinutes(value),
                "ms" => TimeSpan.FromMilliseconds(value),
                _ => TimeSpan.FromSeconds(value),
            };
            i += unit.Length - 1;
            number = i + 1;
        }

        return total;
    }
}
