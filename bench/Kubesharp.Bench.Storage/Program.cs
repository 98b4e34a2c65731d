using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Kubesharp.Bench.Common;
using Kubesharp.Bench.Storage;
using Kubesharp.Storage;
using Kubesharp.Storage.Etcd;
using Kubesharp.Storage.Sqlite;

// Storage benchmark: durable writes/s at 1 and 64 writers, watch delivery latency, list of 10,000
// keys; the SQLite store, the etcd store and etcd driven directly, side by side.
// Usage: dotnet run -c Release --project bench/Kubesharp.Bench.Storage [-- --seconds N] [--quick] [--write PATH-TO-BENCHMARKS.md]
//        [--sqlite-only] [--writers 1,64]
var seconds = 5;
string? markdownPath = null;
var sqliteOnly = false;
int[] writerCounts = [1, 64];
for (var i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--seconds": seconds = int.Parse(args[++i], CultureInfo.InvariantCulture); break;
        case "--write": markdownPath = args[++i]; break;
        case "--quick": seconds = 2; break;
        case "--sqlite-only": sqliteOnly = true; break;
        case "--writers": writerCounts = [.. args[++i].Split(',').Select(w => int.Parse(w, CultureInfo.InvariantCulture))]; break;
    }
}

var duration = TimeSpan.FromSeconds(seconds);
var directory = Path.Combine(Path.GetTempPath(), "kubesharp-bench-" + Guid.NewGuid().ToString("N"));
Directory.CreateDirectory(directory);
var results = new Dictionary<string, Dictionary<string, string>>();
var numbers = new Dictionary<string, Dictionary<string, double>>();
string[] columns = ["SQLite store", "etcd store", "etcd, raw gRPC"];

void Record(string row, string column, double value, string format)
{
    if (!results.TryGetValue(row, out var cells))
    {
        results[row] = cells = [];
        numbers[row] = [];
    }

    cells[column] = value.ToString(format, CultureInfo.InvariantCulture);
    numbers[row][column] = value;
    Console.Error.WriteLine($"{row,-40} {column,-16} {cells[column]}");
}

try
{
    var sqlite = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = Path.Combine(directory, "sqlite", "state.db") }, default);
    await using var sqliteTarget = new StoreTarget("SQLite store", sqlite);
    await using var etcd = sqliteOnly ? null : await EtcdProcess.StartAsync("/usr/bin/etcd", directory);
    await using var etcdTarget = etcd is null ? null : new StoreTarget("etcd store", await EtcdStore.OpenAsync(new EtcdStoreOptions { Endpoints = [etcd.Endpoint] }, default));
    await using var rawTarget = etcd is null ? null : new RawEtcdTarget(etcd.Endpoint);
    LoadTarget[] targets = etcdTarget is null || rawTarget is null ? [sqliteTarget] : [sqliteTarget, etcdTarget, rawTarget];
    StoreTarget[] storeTargets = etcdTarget is null ? [sqliteTarget] : [sqliteTarget, etcdTarget];

    var value = new byte[512];
    Random.Shared.NextBytes(value);
    foreach (var target in targets)
    {
        // Warm-up: compiled code and open connections, so that the first scenario measures the same thing as the rest.
        await MeasureWritesAsync(target, 8, TimeSpan.FromSeconds(1), value);
    }

    foreach (var writers in writerCounts)
    {
        foreach (var target in targets)
        {
            var commits = sqlite.CommitCount;
            var cpu = Process.GetCurrentProcess().TotalProcessorTime;
            var stopwatch = Stopwatch.StartNew();
            var written = await MeasureWritesAsync(target, writers, duration, value);
            var rate = written / stopwatch.Elapsed.TotalSeconds;
            Record($"durable writes/s, {writers} writer{(writers == 1 ? string.Empty : "s")}", target.Name, rate, "N0");
            if (ReferenceEquals(target, sqliteTarget))
            {
                // Diagnostics for the store's own cost, which the shared machine's load does not distort as much as the rate.
                var cpuPerWrite = (Process.GetCurrentProcess().TotalProcessorTime - cpu).TotalMicroseconds / Math.Max(1, written);
                Console.Error.WriteLine($"{"  writes per commit; CPU µs per write",-40} {target.Name,-16} {written / (double)Math.Max(1, sqlite.CommitCount - commits):N1}; {cpuPerWrite:N1}");
            }
        }
    }

    foreach (var target in storeTargets)
    {
        var (p50, p99) = await MeasureWatchLatencyAsync(target.Store, duration, value);
        Record("watch latency p50, ms (ack → watcher)", target.Name, p50, "N2");
        Record("watch latency p99, ms (ack → watcher)", target.Name, p99, "N2");
    }

    var listValue = new byte[1024];
    Random.Shared.NextBytes(listValue);
    foreach (var target in storeTargets)
    {
        await FillAsync(target, "/list/", 10_000, listValue);
    }

    foreach (var target in targets)
    {
        Record("list 10,000 keys (1 KiB values), ms", target.Name, await MeasureListAsync(target, "/list/"), "N1");
    }
}
finally
{
    Directory.Delete(directory, recursive: true);
}

var table = new StringBuilder();
table.AppendLine(CultureInfo.InvariantCulture, $"| measurement | {string.Join(" | ", columns)} | etcd store / raw etcd | SQLite / etcd store |");
table.AppendLine($"|---|{string.Concat(Enumerable.Repeat("--:|", columns.Length + 2))}");
foreach (var (row, cells) in results)
{
    var n = numbers[row];
    string Ratio(string a, string b) => n.TryGetValue(a, out var x) && n.TryGetValue(b, out var y) && y != 0 ? (x / y).ToString("N2", CultureInfo.InvariantCulture) : "–";
    table.AppendLine(CultureInfo.InvariantCulture,
        $"| {row} | {string.Join(" | ", columns.Select(c => cells.GetValueOrDefault(c, "–")))} | {Ratio("etcd store", "etcd, raw gRPC")} | {Ratio("SQLite store", "etcd store")} |");
}

var machine = MachineFacts();
var section = new StringBuilder()
    .AppendLine("## Storage")
    .AppendLine()
    .AppendLine(CultureInfo.InvariantCulture, $"Measured {DateTime.UtcNow:yyyy-MM-dd} with `dotnet run -c Release --project bench/Kubesharp.Bench.Storage -- --seconds {seconds}`")
    .AppendLine("(one run, the stores in the benchmark's own process on the JIT; every write is acknowledged only after fsync; 512-byte values for writes and watch; each write scenario runs")
    .AppendLine(CultureInfo.InvariantCulture, $"{seconds} s; watch latency is the time from the writer's acknowledgement to the watcher's receipt, 0 when the watcher was first).")
    .AppendLine()
    .AppendLine(machine)
    .AppendLine()
    .Append(table)
    .ToString();
Console.WriteLine(section);

if (markdownPath is not null)
{
    await BenchmarkReport.WriteSectionAsync(markdownPath, "## Storage", section);
}

static async Task<long> MeasureWritesAsync(LoadTarget target, int writers, TimeSpan duration, byte[] value)
{
    var run = Guid.NewGuid().ToString("N")[..8];
    var counts = new long[writers];
    var end = Stopwatch.GetTimestamp() + (long)(duration.TotalSeconds * Stopwatch.Frequency);
    await Task.WhenAll(Enumerable.Range(0, writers).Select(w => Task.Run(async () =>
    {
        var prefix = $"/bench/{run}/{w}/";
        var n = 0;
        while (Stopwatch.GetTimestamp() < end)
        {
            await target.CreateAsync(prefix + n.ToString(CultureInfo.InvariantCulture), value, default);
            n++;
        }

        counts[w] = n;
    })));
    return counts.Sum();
}

static async Task<(double P50, double P99)> MeasureWatchLatencyAsync(IStore store, TimeSpan duration, byte[] value)
{
    var prefix = $"/watch/{Guid.NewGuid():N}/";
    var acknowledged = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
    var received = new ConcurrentDictionary<string, long>(StringComparer.Ordinal);
    using var stop = new CancellationTokenSource();
    var start = await store.GetCurrentRevisionAsync(default);
    long written = 0;
    var watching = Task.Run(async () =>
    {
        try
        {
            await foreach (var e in store.WatchAsync(prefix, start, stop.Token))
            {
                received[e.Current.Key] = Stopwatch.GetTimestamp();
            }
        }
        catch (OperationCanceledException)
        {
        }
    });
    var stopwatch = Stopwatch.StartNew();
    // A steady load of 8 writers, as a busy control plane would have.
    await Task.WhenAll(Enumerable.Range(0, 8).Select(w => Task.Run(async () =>
    {
        for (var n = 0; stopwatch.Elapsed < duration; n++)
        {
            var key = $"{prefix}{w}/{n}";
            await store.CreateAsync(key, value, default);
            acknowledged[key] = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref written);
        }
    })));
    var wait = Stopwatch.StartNew();
    while (received.Count < Interlocked.Read(ref written) && wait.Elapsed < TimeSpan.FromSeconds(30))
    {
        await Task.Delay(10);
    }

    await stop.CancelAsync();
    await watching;
    var latencies = acknowledged
        .Where(a => received.ContainsKey(a.Key))
        .Select(a => Math.Max(0, Stopwatch.GetElapsedTime(a.Value, received[a.Key]).TotalMilliseconds))
        .Order()
        .ToArray();
    if (latencies.Length != acknowledged.Count)
    {
        throw new InvalidOperationException($"watcher missed {acknowledged.Count - latencies.Length} events");
    }

    return (latencies[latencies.Length / 2], latencies[(int)(latencies.Length * 0.99)]);
}

static async Task FillAsync(LoadTarget target, string prefix, int count, byte[] value) =>
    await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 64 },
        async (i, token) => await target.CreateAsync($"{prefix}{i:D6}", value, token));

static async Task<double> MeasureListAsync(LoadTarget target, string prefix)
{
    var times = new List<double>();
    for (var i = 0; i < 7; i++)
    {
        var stopwatch = Stopwatch.StartNew();
        var count = await target.ListAsync(prefix, default);
        times.Add(stopwatch.Elapsed.TotalMilliseconds);
        if (count != 10_000)
        {
            throw new InvalidOperationException($"{target.Name} listed {count} keys");
        }
    }

    // The first run warms caches and code; the median of the rest is reported.
    return times.Skip(1).Order().ElementAt(3);
}

static string SqliteVersion()
{
    using var connection = new Microsoft.Data.Sqlite.SqliteConnection("Data Source=:memory:");
    connection.Open();
    return connection.ServerVersion;
}

static string MachineFacts()
{
    var cpu = File.Exists("/proc/cpuinfo")
        ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown"
        : "unknown";
    var memory = File.Exists("/proc/meminfo")
        ? File.ReadLines("/proc/meminfo").First().Split(':', 2)[1].Trim()
        : "unknown";
    var etcdVersion = "unknown";
    try
    {
        using var process = Process.Start(new ProcessStartInfo("/usr/bin/etcd", "--version") { RedirectStandardOutput = true })!;
        etcdVersion = process.StandardOutput.ReadLine()?.Replace("etcd Version: ", string.Empty, StringComparison.Ordinal) ?? etcdVersion;
        process.WaitForExit();
    }
    catch (System.ComponentModel.Win32Exception)
    {
    }

    return $"Machine: {cpu}, {Environment.ProcessorCount} cores (shared with other work), {memory} RAM, virtual disk ({RuntimeInformation.OSDescription}); " +
        $".NET {Environment.Version}; SQLite {SqliteVersion()}; etcd {etcdVersion} (single member, default fsync settings).";
}
