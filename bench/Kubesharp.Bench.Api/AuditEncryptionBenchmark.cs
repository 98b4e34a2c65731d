using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Kubesharp.Bench.Common;

namespace Kubesharp.Bench.Api;

/// <summary>
/// What the audit log and encryption at rest cost, each against the same server without them in the same run:
/// ConfigMap CREATE with every request audited at Metadata level beside no audit, and Secret CREATE and GET with
/// aescbc and aesgcm beside identity. One server process per configuration, measured one after the other.
/// </summary>
internal static class AuditEncryptionBenchmark
{
    public const string Heading = "## Audit log and encryption at rest";

    private const int Clients = 32;

    public static async Task<string> RunAsync(string root, TimeSpan duration, bool quick)
    {
        var policy = Path.Combine(root, "audit-policy.yaml");
        await File.WriteAllTextAsync(policy, "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n  - level: Metadata\n");
        var configs = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var provider in new[] { "aescbc", "aesgcm" })
        {
            var path = Path.Combine(root, provider + ".yaml");
            await File.WriteAllTextAsync(path, $"apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n  - resources: [secrets]\n    providers:\n      - {provider}:\n          keys:\n            - name: key1\n              secret: {Convert.ToBase64String(RandomNumberGenerator.GetBytes(32))}\n      - identity: {{}}\n");
            configs[provider] = path;
        }

        var plain = await MeasureServerAsync(Path.Combine(root, "plain"), duration, []);
        var audited = await MeasureServerAsync(Path.Combine(root, "audited"), duration, ["--audit-policy-file", policy, "--audit-log-path", Path.Combine(root, "audited", "audit.log")]);
        var aescbc = await MeasureServerAsync(Path.Combine(root, "aescbc"), duration, ["--encryption-provider-config", configs["aescbc"]]);
        var aesgcm = await MeasureServerAsync(Path.Combine(root, "aesgcm"), duration, ["--encryption-provider-config", configs["aesgcm"]]);

        var section = new StringBuilder();
        section.AppendLine(Heading);
        section.AppendLine();
        section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Api --audit-encryption`{(quick ? " --quick" : string.Empty)}. One `kubesharp server --disable-agent` (SQLite, {KubesharpExecutable.Description}) per");
        section.AppendLine("configuration, started one after the other in one run: none, `--audit-policy-file` with one rule auditing every request at");
        section.AppendLine("Metadata level into `--audit-log-path`, and `--encryption-provider-config` encrypting Secrets with aescbc, then aesgcm (a");
        section.AppendLine(CultureInfo.InvariantCulture, $"32-byte key, identity listed second). Each load runs {duration.TotalSeconds:0} s from {Clients} clients over one HTTP/2 connection; Secrets hold 256 bytes of data.");
        section.AppendLine();
        section.AppendLine("| measurement | with | without | with / without |");
        section.AppendLine("|---|--:|--:|--:|");
        Row(section, "CREATE ConfigMap, audit at Metadata vs off: p50 ms", audited.CreateConfigMap.P50, plain.CreateConfigMap.P50, "0.00");
        Row(section, "CREATE ConfigMap, audit at Metadata vs off: p99 ms", audited.CreateConfigMap.P99, plain.CreateConfigMap.P99, "0.00");
        Row(section, "CREATE ConfigMap, audit at Metadata vs off: requests/s", audited.CreateConfigMap.Rate, plain.CreateConfigMap.Rate, "N0");
        foreach (var (name, encrypted) in new[] { ("aescbc", aescbc), ("aesgcm", aesgcm) })
        {
            Row(section, $"CREATE Secret, {name} vs identity: p50 ms", encrypted.CreateSecret.P50, plain.CreateSecret.P50, "0.00");
            Row(section, $"CREATE Secret, {name} vs identity: p99 ms", encrypted.CreateSecret.P99, plain.CreateSecret.P99, "0.00");
            Row(section, $"CREATE Secret, {name} vs identity: requests/s", encrypted.CreateSecret.Rate, plain.CreateSecret.Rate, "N0");
            Row(section, $"GET one Secret, {name} vs identity: p50 ms", encrypted.GetSecret.P50, plain.GetSecret.P50, "0.00");
            Row(section, $"GET one Secret, {name} vs identity: p99 ms", encrypted.GetSecret.P99, plain.GetSecret.P99, "0.00");
            Row(section, $"GET one Secret, {name} vs identity: requests/s", encrypted.GetSecret.Rate, plain.GetSecret.Rate, "N0");
        }

        section.AppendLine();
        section.AppendLine(CultureInfo.InvariantCulture, $"The audited server wrote {audited.AuditLogBytes / 1024.0 / 1024.0:0.0} MB of audit log. GET is served from the watch cache, which holds decrypted");
        section.AppendLine("objects: decryption is paid once per write (on the cache's watch), not per read.");
        return section.ToString().TrimEnd();
    }

    private static void Row(StringBuilder section, string name, double with, double without, string format) =>
        section.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {BenchmarkReport.Format(with, format)} | {BenchmarkReport.Format(without, format)} | {BenchmarkReport.Ratio(with, without)} |");

    private static async Task<Figures> MeasureServerAsync(string dataDir, TimeSpan duration, string[] arguments)
    {
        using var server = await ServerProcess.StartKubesharpAsync(dataDir, arguments);
        using var client = ServerProcess.CreateClient(server.DataDir);
        var url = server.Url;
        (await client.PostAsync(new Uri(url, "/api/v1/namespaces"), Json("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}"""))).EnsureSuccessStatusCode();
        (await client.PostAsync(new Uri(url, "/api/v1/namespaces/bench/secrets"), Secret("get-me"))).EnsureSuccessStatusCode();
        var createConfigMap = await MeasureAsync(client, duration, (c, n) => c.PostAsync(new Uri(url, "/api/v1/namespaces/bench/configmaps"), ConfigMap($"c-{n}")));
        var createSecret = await MeasureAsync(client, duration, (c, n) => c.PostAsync(new Uri(url, "/api/v1/namespaces/bench/secrets"), Secret($"s-{n}")));
        var getSecret = await MeasureAsync(client, duration, (c, _) => c.GetAsync(new Uri(url, "/api/v1/namespaces/bench/secrets/get-me")));
        var log = Path.Combine(dataDir, "audit.log");
        var figures = new Figures(createConfigMap, createSecret, getSecret, File.Exists(log) ? new FileInfo(log).Length : 0);
        Console.Error.WriteLine($"{Path.GetFileName(dataDir)}: CREATE ConfigMap {createConfigMap.Rate:F0}/s, CREATE Secret {createSecret.Rate:F0}/s, GET Secret {getSecret.Rate:F0}/s");
        return figures;
    }

    private static async Task<Measured> MeasureAsync(HttpClient client, TimeSpan duration, Func<HttpClient, long, Task<HttpResponseMessage>> send)
    {
        var (latencies, rate) = await Load.RunAsync(client, Clients, duration, send);
        return new Measured(BenchmarkReport.Percentile(latencies, 0.5), BenchmarkReport.Percentile(latencies, 0.99), rate);
    }

    private static StringContent ConfigMap(string name) =>
        Json($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"},"data":{"key":"{{{new string('v', 256)}}}"}}""");

    private static StringContent Secret(string name) =>
        Json($$$"""{"apiVersion":"v1","kind":"Secret","metadata":{"name":"{{{name}}}"},"data":{"key":"{{{Convert.ToBase64String(new byte[256])}}}"}}""");

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private sealed record Measured(double P50, double P99, double Rate);

    private sealed record Figures(Measured CreateConfigMap, Measured CreateSecret, Measured GetSecret, long AuditLogBytes);
}
