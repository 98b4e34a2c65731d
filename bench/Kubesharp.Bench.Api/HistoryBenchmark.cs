using System.Globalization;
using System.Text;
using Kubesharp.Bench.Common;

namespace Kubesharp.Bench.Api;

/// <summary>
/// What object history costs: ConfigMap CREATE and PATCH throughput, and the datastore's size after the same load, with
/// <c>--history-retention 7d</c> beside the same server without history. One server process per configuration, one
/// after the other in one run.
/// </summary>
internal static class HistoryBenchmark
{
    public const string Heading = "## Object history";

    private const int Clients = 32;
    private const int Patched = 100;

    public static async Task<string> RunAsync(string root, TimeSpan duration, bool quick)
    {
        // A first pair warms the benchmark process (its client and JIT) and is discarded; the second pair is reported.
        await MeasureServerAsync(Path.Combine(root, "warm-off"), duration, []);
        await MeasureServerAsync(Path.Combine(root, "warm-on"), duration, ["--history-retention", "7d"]);
        var off = await MeasureServerAsync(Path.Combine(root, "off"), duration, []);
        var on = await MeasureServerAsync(Path.Combine(root, "on"), duration, ["--history-retention", "7d"]);

        var section = new StringBuilder();
        section.AppendLine(Heading);
        section.AppendLine();
        section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Api --history`{(quick ? " --quick" : string.Empty)}. One `kubesharp server --disable-agent` (SQLite, {KubesharpExecutable.Description}) per");
        section.AppendLine("configuration, started one after the other in one run (a first pair is discarded as warm-up): no history, and");
        section.AppendLine("`--history-retention 7d` (default 256Mi bound, not reached here).");
        section.AppendLine(CultureInfo.InvariantCulture, $"Each load runs {duration.TotalSeconds:0} s from {Clients} clients over one HTTP/2 connection: CREATE of ConfigMaps with 256");
        section.AppendLine(CultureInfo.InvariantCulture, $"bytes of data, then merge PATCHes spread over {Patched} ConfigMaps. The store's size is its files (database and log) once the server has stopped.");
        section.AppendLine();
        section.AppendLine("| measurement | history on | history off | on / off |");
        section.AppendLine("|---|--:|--:|--:|");
        Row(section, "CREATE ConfigMap: p50 ms", on.Create.P50, off.Create.P50, "0.00");
        Row(section, "CREATE ConfigMap: p99 ms", on.Create.P99, off.Create.P99, "0.00");
        Row(section, "CREATE ConfigMap: requests/s", on.Create.Rate, off.Create.Rate, "N0");
        Row(section, "PATCH ConfigMap: p50 ms", on.Patch.P50, off.Patch.P50, "0.00");
        Row(section, "PATCH ConfigMap: p99 ms", on.Patch.P99, off.Patch.P99, "0.00");
        Row(section, "PATCH ConfigMap: requests/s", on.Patch.Rate, off.Patch.Rate, "N0");
        Row(section, "writes made (CREATE + PATCH)", on.Writes, off.Writes, "N0");
        Row(section, "store size after the load, MB", on.StoreBytes / 1024.0 / 1024.0, off.StoreBytes / 1024.0 / 1024.0, "0.0");
        Row(section, "store bytes per write", on.StoreBytes / (double)on.Writes, off.StoreBytes / (double)off.Writes, "N0");
        section.AppendLine();
        section.AppendLine("With history on a write is one store write, as without: history reads the store's own revisions, which the API server");
        section.AppendLine("compacts where the window opens instead of the store compacting itself 10,000 revisions behind its head; who made each");
        section.AppendLine("write and when goes to a journal written about once a second (a few bytes per write). Neither store compacted during");
        section.AppendLine("this run, so both hold every revision: the size ratio is what keeping a write in history costs over the write itself.");
        section.AppendLine("Over a day of churn the store without history keeps its last 10,000 revisions; with history it keeps each of the");
        section.AppendLine("day's writes once, up to `--history-max-size`.");
        return section.ToString().TrimEnd();
    }

    private static void Row(StringBuilder section, string name, double with, double without, string format) =>
        section.AppendLine(CultureInfo.InvariantCulture, $"| {name} | {BenchmarkReport.Format(with, format)} | {BenchmarkReport.Format(without, format)} | {BenchmarkReport.Ratio(with, without)} |");

    private static async Task<Figures> MeasureServerAsync(string dataDir, TimeSpan duration, string[] arguments)
    {
        Measured create, patch;
        long writes;
        using (var server = await ServerProcess.StartKubesharpAsync(dataDir, arguments))
        {
            using var client = ServerProcess.CreateClient(server.DataDir);
            var url = server.Url;
            (await client.PostAsync(new Uri(url, "/api/v1/namespaces"), Json("""{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"bench"}}"""))).EnsureSuccessStatusCode();
            for (var i = 0; i < Patched; i++)
            {
                (await client.PostAsync(new Uri(url, "/api/v1/namespaces/bench/configmaps"), ConfigMap($"p-{i}"))).EnsureSuccessStatusCode();
            }

            (create, var created) = await MeasureAsync(client, duration, (c, n) => c.PostAsync(new Uri(url, "/api/v1/namespaces/bench/configmaps"), ConfigMap($"c-{n}")));
            (patch, var patched) = await MeasureAsync(client, duration, (c, n) =>
            {
                var request = new HttpRequestMessage(HttpMethod.Patch, new Uri(url, $"/api/v1/namespaces/bench/configmaps/p-{n % Patched}"))
                {
                    Content = new StringContent($$$"""{"data":{"n":"{{{n}}}"}}""", Encoding.UTF8, "application/merge-patch+json"),
                };
                return c.SendAsync(request);
            });
            writes = created + patched + Patched;
        }

        var storeBytes = Directory.EnumerateFiles(Path.Combine(dataDir, "db")).Sum(f => new FileInfo(f).Length);
        Console.Error.WriteLine($"{Path.GetFileName(dataDir)}: CREATE {create.Rate:F0}/s, PATCH {patch.Rate:F0}/s, store {storeBytes / 1024.0 / 1024.0:F1} MB after {writes} writes");
        return new Figures(create, patch, writes, storeBytes);
    }

    private static async Task<(Measured Figures, long Count)> MeasureAsync(HttpClient client, TimeSpan duration, Func<HttpClient, long, Task<HttpResponseMessage>> send)
    {
        var (latencies, rate) = await Load.RunAsync(client, Clients, duration, send);
        return (new Measured(BenchmarkReport.Percentile(latencies, 0.5), BenchmarkReport.Percentile(latencies, 0.99), rate), latencies.Count);
    }

    private static StringContent ConfigMap(string name) =>
        Json($$$"""{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"{{{name}}}"},"data":{"key":"{{{new string('v', 256)}}}"}}""");

    private static StringContent Json(string text) => new(text, Encoding.UTF8, "application/json");

    private sealed record Measured(double P50, double P99, double Rate);

    private sealed record Figures(Measured Create, Measured Patch, long Writes, long StoreBytes);
}
