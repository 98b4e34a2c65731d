using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Bench.Common;
using Kubesharp.IntegrationTests.Support;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.Bench.Api;

/// <summary>
/// What admission adds to a CREATE, on one server in one run: ConfigMaps created in a namespace no webhook or policy
/// selects (the floor), in one that one validating webhook selects (an HTTPS server on loopback in this process,
/// allowing everything), and in one that one ValidatingAdmissionPolicy's binding selects (two CEL validations).
/// </summary>
internal static class AdmissionBenchmark
{
    public const string Heading = "## Admission";

    public static async Task<string> RunAsync(HttpClient client, Uri baseUrl, TimeSpan duration, bool quick)
    {
        await using var webhook = await AllowingWebhook.StartAsync();
        foreach (var ns in new[] { "adm-none", "adm-webhook", "adm-policy" })
        {
            await SendAsync(client, new Uri(baseUrl, "/api/v1/namespaces"), $$$"""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"{{{ns}}}"}}""");
        }

        await SendAsync(client, new Uri(baseUrl, "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations"), $$$$"""
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingWebhookConfiguration","metadata":{"name":"bench"},
             "webhooks":[{"name":"allow.bench.kubesharp.io","admissionReviewVersions":["v1"],"sideEffects":"None","failurePolicy":"Fail",
               "clientConfig":{"url":"{{{{webhook.Url}}}}","caBundle":"{{{{webhook.CaBundle}}}}"},
               "rules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["configmaps"]}],
               "namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"adm-webhook"}}}]}
            """);
        await SendAsync(client, new Uri(baseUrl, "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies"), """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicy","metadata":{"name":"bench"},
             "spec":{"matchConstraints":{"resourceRules":[{"operations":["CREATE"],"apiGroups":[""],"apiVersions":["v1"],"resources":["configmaps"]}]},
               "validations":[{"expression":"object.metadata.labels['app'] == 'bench'"},{"expression":"size(object.data.data) <= 1024","message":"data too large"}]}}
            """);
        await SendAsync(client, new Uri(baseUrl, "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicybindings"), """
            {"apiVersion":"admissionregistration.k8s.io/v1","kind":"ValidatingAdmissionPolicyBinding","metadata":{"name":"bench"},
             "spec":{"policyName":"bench","validationActions":["Deny"],
               "matchResources":{"namespaceSelector":{"matchLabels":{"kubernetes.io/metadata.name":"adm-policy"}}}}}
            """);

        // The server compiles webhooks and policies from its watch cache: give it a moment to see them, then warm up.
        await Task.Delay(TimeSpan.FromSeconds(1));
        foreach (var ns in new[] { "adm-none", "adm-webhook", "adm-policy" })
        {
            await Load.RunAsync(client, 1, TimeSpan.FromSeconds(0.5), (c, n) => c.PostAsync(ConfigMaps(baseUrl, ns), ConfigMap($"warm-{n}")));
        }

        var rows = new List<(string Measurement, double With, double Floor, string Format)>();
        foreach (var clients in new[] { 1, 32 })
        {
            var (floorLatencies, floorRate) = await Load.RunAsync(client, clients, duration, (c, n) => c.PostAsync(ConfigMaps(baseUrl, "adm-none"), ConfigMap($"c{clients}-{n}")));
            foreach (var (label, ns) in new[] { ("one validating webhook", "adm-webhook"), ("one ValidatingAdmissionPolicy", "adm-policy") })
            {
                var (latencies, rate) = await Load.RunAsync(client, clients, duration, (c, n) => c.PostAsync(ConfigMaps(baseUrl, ns), ConfigMap($"c{clients}-{n}")));
                rows.Add(($"CREATE ConfigMap with {label}, {clients} client(s): p50 ms", BenchmarkReport.Percentile(latencies, 0.5), BenchmarkReport.Percentile(floorLatencies, 0.5), "0.00"));
                rows.Add(($"CREATE ConfigMap with {label}, {clients} client(s): p99 ms", BenchmarkReport.Percentile(latencies, 0.99), BenchmarkReport.Percentile(floorLatencies, 0.99), "0.00"));
                rows.Add(($"CREATE ConfigMap with {label}, {clients} client(s): requests/s", rate, floorRate, "N0"));
                Console.Error.WriteLine($"{label}, {clients} client(s): p50 {BenchmarkReport.Percentile(latencies, 0.5):F2} ms p99 {BenchmarkReport.Percentile(latencies, 0.99):F2} ms {rate:F0}/s; " +
                    $"no admission p50 {BenchmarkReport.Percentile(floorLatencies, 0.5):F2} ms p99 {BenchmarkReport.Percentile(floorLatencies, 0.99):F2} ms {floorRate:F0}/s");
            }
        }

        var section = new StringBuilder();
        section.AppendLine(Heading);
        section.AppendLine();
        section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Api --admission`{(quick ? " (--quick)" : string.Empty)}, one Kubesharp server ({KubesharpExecutable.Description}). CREATE of a ConfigMap in a namespace");
        section.AppendLine("one validating webhook selects (failurePolicy Fail; the webhook is an HTTPS server on loopback in the benchmark's");
        section.AppendLine("process that allows everything) and in one a ValidatingAdmissionPolicy's binding selects (two CEL validations),");
        section.AppendLine(CultureInfo.InvariantCulture, $"beside the floor: the same CREATE in a namespace nothing selects, measured in the same run just before. Each load {duration.TotalSeconds:0} s");
        section.AppendLine("over one HTTP/2 connection. Targets: webhook ≤ +2 ms p50, policy ≤ +0.2 ms p50 (1 client).");
        section.AppendLine();
        section.AppendLine("| measurement | with admission | no admission (floor) | with / floor | added ms |");
        section.AppendLine("|---|--:|--:|--:|--:|");
        foreach (var (measurement, with, floor, format) in rows)
        {
            var added = format == "N0" ? "–" : BenchmarkReport.Format(with - floor, "0.00");
            section.AppendLine(CultureInfo.InvariantCulture, $"| {measurement} | {BenchmarkReport.Format(with, format)} | {BenchmarkReport.Format(floor, format)} | {BenchmarkReport.Ratio(with, floor)} | {added} |");
        }

        return section.ToString();
    }

    private static Uri ConfigMaps(Uri baseUrl, string ns) => new(baseUrl, $"/api/v1/namespaces/{ns}/configmaps");

    private static StringContent ConfigMap(string name) => new(
        $$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}","labels":{"app":"bench"}},"data":{"size":"3","color":"blue","data":"{{{new string('v', 256)}}}"}}""",
        Encoding.UTF8,
        "application/json");

    private static async Task SendAsync(HttpClient client, Uri url, string body)
    {
        using var response = await client.PostAsync(url, new StringContent(body, Encoding.UTF8, "application/json"));
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"POST {url} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }

    /// <summary>A validating webhook that allows every request, served over HTTPS with a certificate of its own CA.</summary>
    private sealed class AllowingWebhook : IAsyncDisposable
    {
        private readonly LoopbackHttpsHost _host;

        private AllowingWebhook(LoopbackHttpsHost host) => _host = host;

        public string CaBundle => _host.CaBundle;

        public string Url => _host.Url("/validate");

        public static async Task<AllowingWebhook> StartAsync() => new(await LoopbackHttpsHost.StartAsync("bench-webhook", [], AllowAsync));

        private static async Task AllowAsync(HttpContext context)
        {
            var review = await JsonNode.ParseAsync(context.Request.Body);
            var answer = new JsonObject
            {
                ["apiVersion"] = "admission.k8s.io/v1",
                ["kind"] = "AdmissionReview",
                ["response"] = new JsonObject { ["uid"] = (string?)review?["request"]?["uid"], ["allowed"] = true },
            };
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync(answer.ToJsonString());
        }

        public ValueTask DisposeAsync() => _host.DisposeAsync();
    }
}
