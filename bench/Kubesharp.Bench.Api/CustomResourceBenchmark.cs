using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Bench.Common;

namespace Kubesharp.Bench.Api;

/// <summary>
/// Custom objects against ConfigMaps on the same server in the same run: GET one, LIST 1,000 and CREATE, at 1 and 32
/// clients, each custom figure beside the ConfigMap one; and the seconds from creating a CustomResourceDefinition to
/// its Established condition.
/// </summary>
internal static class CustomResourceBenchmark
{
    public const string Heading = "## Custom resources";

    private const string Group = "bench.kubesharp.io";

    public static async Task<string> RunAsync(HttpClient client, Uri baseUrl, TimeSpan duration, int establishRuns, bool quick)
    {
        var rows = new List<(string Measurement, double Custom, double ConfigMaps, string Format)>();
        await PrepareAsync(client, baseUrl);
        var widgets = new Uri(baseUrl, $"/apis/{Group}/v1/namespaces/cr-bench/widgets/");
        var widgetList = new Uri(baseUrl, $"/apis/{Group}/v1/namespaces/cr-bench-list/widgets");
        var configMaps = new Uri(baseUrl, "/api/v1/namespaces/cr-bench/configmaps/");
        var configMapList = new Uri(baseUrl, "/api/v1/namespaces/cr-bench-list/configmaps");
        foreach (var clients in new[] { 1, 32 })
        {
            await MeasureAsync($"GET one object, {clients} client(s)", clients,
                (c, _) => c.GetAsync(new Uri(widgets, "get-me")), (c, _) => c.GetAsync(new Uri(configMaps, "get-me")));
            await MeasureAsync($"LIST 1,000 objects, {clients} client(s)", clients,
                (c, _) => c.GetAsync(widgetList), (c, _) => c.GetAsync(configMapList));
            await MeasureAsync($"CREATE object, {clients} client(s)", clients,
                (c, n) => c.PostAsync(new Uri(baseUrl, widgets.AbsolutePath.TrimEnd('/')), Widget($"c{clients}-{n}")),
                (c, n) => c.PostAsync(new Uri(baseUrl, configMaps.AbsolutePath.TrimEnd('/')), ConfigMap($"c{clients}-{n}")));
        }

        var established = new List<double>();
        for (var run = 0; run < establishRuns; run++)
        {
            established.Add(await SecondsToEstablishedAsync(client, baseUrl, "gadget" + run.ToString(CultureInfo.InvariantCulture)));
        }

        var section = new StringBuilder();
        section.AppendLine(Heading);
        section.AppendLine();
        section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Api`{(quick ? " (--quick)" : string.Empty)}, both kinds on one Kubesharp server ({KubesharpExecutable.Description}). A namespaced");
        section.AppendLine("custom resource with a structural schema (one version) against ConfigMaps of the same size, in one run over one HTTP/2");
        section.AppendLine(CultureInfo.InvariantCulture, $"connection: after an unmeasured {duration.TotalSeconds / 2:0.#} s of each load, four alternating rounds of {duration.TotalSeconds / 4:0.#} s each, either kind first in two. Targets: custom objects ≤ 1.2 × the ConfigMap figures;");
        section.AppendLine("≤ 0.2 s from creating a CustomResourceDefinition to its Established condition.");
        section.AppendLine();
        section.AppendLine("| measurement | custom objects | ConfigMaps | custom / ConfigMaps |");
        section.AppendLine("|---|--:|--:|--:|");
        foreach (var (measurement, custom, configMap, format) in rows)
        {
            section.AppendLine(CultureInfo.InvariantCulture, $"| {measurement} | {BenchmarkReport.Format(custom, format)} | {BenchmarkReport.Format(configMap, format)} | {BenchmarkReport.Ratio(custom, configMap)} |");
        }

        section.AppendLine();
        section.AppendLine("| measurement | seconds |");
        section.AppendLine("|---|--:|");
        section.AppendLine(CultureInfo.InvariantCulture, $"| CustomResourceDefinition create → Established, median of {establishRuns} | {BenchmarkReport.Format(BenchmarkReport.Percentile(established, 0.5), "0.000")} |");
        section.AppendLine(CultureInfo.InvariantCulture, $"| CustomResourceDefinition create → Established, worst of {establishRuns} | {BenchmarkReport.Format(established.Max(), "0.000")} |");
        return section.ToString();

        async Task MeasureAsync(string name, int clients, Func<HttpClient, long, Task<HttpResponseMessage>> custom, Func<HttpClient, long, Task<HttpResponseMessage>> configMap)
        {
            var ((customLatencies, customRate), (configMapLatencies, configMapRate)) = await Load.ComparePairedAsync(clients, duration, (client, custom), (client, configMap));
            rows.Add(($"{name}: p50 ms", BenchmarkReport.Percentile(customLatencies, 0.5), BenchmarkReport.Percentile(configMapLatencies, 0.5), "0.00"));
            rows.Add(($"{name}: p99 ms", BenchmarkReport.Percentile(customLatencies, 0.99), BenchmarkReport.Percentile(configMapLatencies, 0.99), "0.00"));
            rows.Add(($"{name}: requests/s", customRate, configMapRate, "N0"));
            Console.Error.WriteLine($"{name}: custom p50 {BenchmarkReport.Percentile(customLatencies, 0.5):F2} ms p99 {BenchmarkReport.Percentile(customLatencies, 0.99):F2} ms {customRate:F0}/s; " +
                $"ConfigMap p50 {BenchmarkReport.Percentile(configMapLatencies, 0.5):F2} ms p99 {BenchmarkReport.Percentile(configMapLatencies, 0.99):F2} ms {configMapRate:F0}/s");
        }
    }

    private static async Task PrepareAsync(HttpClient client, Uri baseUrl)
    {
        foreach (var ns in new[] { "cr-bench", "cr-bench-list" })
        {
            await SendAsync(client, new Uri(baseUrl, "/api/v1/namespaces"), $$$"""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"{{{ns}}}"}}""");
        }

        await SecondsToEstablishedAsync(client, baseUrl, "widget");
        await SendAsync(client, new Uri(baseUrl, $"/apis/{Group}/v1/namespaces/cr-bench/widgets"), Widget("get-me"));
        await SendAsync(client, new Uri(baseUrl, "/api/v1/namespaces/cr-bench/configmaps"), ConfigMap("get-me"));
        var next = 0;
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            int n;
            while ((n = Interlocked.Increment(ref next)) <= 1000)
            {
                var name = "item-" + n.ToString(CultureInfo.InvariantCulture);
                await SendAsync(client, new Uri(baseUrl, $"/apis/{Group}/v1/namespaces/cr-bench-list/widgets"), Widget(name));
                await SendAsync(client, new Uri(baseUrl, "/api/v1/namespaces/cr-bench-list/configmaps"), ConfigMap(name));
            }
        })));
    }

    /// <summary>Creates the CustomResourceDefinition of <paramref name="singular"/>s and polls until it is Established.</summary>
    private static async Task<double> SecondsToEstablishedAsync(HttpClient client, Uri baseUrl, string singular)
    {
        var plural = singular + "s";
        var name = plural + "." + Group;
        var kind = char.ToUpperInvariant(singular[0]) + singular[1..];
        var crd = """
            {"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"NAME"},
             "spec":{"group":"GROUP","scope":"Namespaced","names":{"plural":"PLURAL","singular":"SINGULAR","kind":"KIND"},
              "versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","properties":{
                "spec":{"type":"object","properties":{"size":{"type":"integer"},"color":{"type":"string"},"data":{"type":"string"}}}}}}}]}}
            """.Replace("NAME", name, StringComparison.Ordinal).Replace("GROUP", Group, StringComparison.Ordinal)
            .Replace("PLURAL", plural, StringComparison.Ordinal).Replace("SINGULAR", singular, StringComparison.Ordinal).Replace("KIND", kind, StringComparison.Ordinal);
        var clock = Stopwatch.StartNew();
        await SendAsync(client, new Uri(baseUrl, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions"), crd);
        var url = new Uri(baseUrl, "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" + name);
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            var body = JsonNode.Parse(await client.GetStringAsync(url))!;
            if (body["status"]?["conditions"]?.AsArray().Any(c => (string?)c!["type"] == "Established" && (string?)c["status"] == "True") == true)
            {
                return clock.Elapsed.TotalSeconds;
            }

            await Task.Delay(2);
        }

        throw new InvalidOperationException($"{name} was not Established within 30 s");
    }

    private static Task SendAsync(HttpClient client, Uri url, string body) => SendAsync(client, url, new StringContent(body, Encoding.UTF8, "application/json"));

    private static async Task SendAsync(HttpClient client, Uri url, HttpContent body)
    {
        using var response = await client.PostAsync(url, body);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    private static StringContent Widget(string name) => new(
        $$$"""{"apiVersion":"{{{Group}}}/v1","kind":"Widget","metadata":{"name":"{{{name}}}","labels":{"app":"bench"}},"spec":{"size":3,"color":"blue","data":"{{{new string('v', 256)}}}"}}""",
        Encoding.UTF8,
        "application/json");

    private static StringContent ConfigMap(string name) => new(
        $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","labels":{"app":"bench"}},"data":{"size":"3","color":"blue","data":"{{{new string('v', 256)}}}"}}""",
        Encoding.UTF8,
        "application/json");
}
