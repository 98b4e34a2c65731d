using System.Globalization;
using System.Text;
using Google.Protobuf;
using Kubesharp.Bench.Common;
using Kubesharp.Bench.Grpc;
using Kubesharp.Bench.Storage;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Images;
using Kubesharp.Kubelet.Runtime;
using Kubesharp.Storage.Etcd.Protocol;
using Microsoft.Extensions.Logging.Abstractions;

// gRPC client benchmark: the project's own client (Kubesharp.Grpc) beside Grpc.Net.Client, the same messages and
// method descriptors shaped as Grpc.Tools generates them, in one run against
// 1. a real etcd on loopback (Put of 512-byte values, single-key Range, compare-and-swap Txn), and
// 2. a real containerd started here, as root (Version, ListPodSandbox, ListContainers, ImageStatus, and a whole
//    sandbox + container create/start/stop/remove cycle).
// Each read or write: a sequential loop (p50/p99, bytes allocated per call) and concurrent workers (requests/s).
// The clients take turns, in alternating order per round; each figure is the better of the rounds.
// Usage: Kubesharp.Bench.Grpc [--quick] [--skip-cri] [--write BENCHMARKS.md]
var quick = args.Contains("--quick");
var skipCri = args.Contains("--skip-cri") || Environment.UserName != "root";
var writeIndex = Array.IndexOf(args, "--write");
var markdownPath = writeIndex >= 0 && writeIndex + 1 < args.Length ? args[writeIndex + 1] : null;
var sequentialCalls = quick ? 500 : 3000;
var duration = TimeSpan.FromSeconds(quick ? 2 : 5);
var rounds = quick ? 1 : 2;
const int Workers = 16;
// Pod cycles take runc's time (a third of a second each); more rounds of them, so that run-to-run noise shows.
var cycles = quick ? 3 : 20;
var cycleRounds = quick ? 1 : 4;
var cancellationToken = CancellationToken.None;

var rows = new List<(string Operation, CallFigures Ours, CallFigures Library)>();
var root = Directory.CreateTempSubdirectory("ksb-grpc-").FullName;
try
{
    // etcd without fsync, so that the clients' own cost is not hidden under the disk's.
    await using (var etcd = await EtcdProcess.StartAsync("/usr/bin/etcd", root, "--unsafe-no-fsync"))
    {
        var value = UnsafeByteOperations.UnsafeWrap(Encoding.ASCII.GetBytes(new string('v', 512)));
        var put = new BenchMethod<PutRequest, PutResponse>("/etcdserverpb.KV/Put", PutResponse.Parser);
        var range = new BenchMethod<RangeRequest, RangeResponse>("/etcdserverpb.KV/Range", RangeResponse.Parser);
        var txn = new BenchMethod<TxnRequest, TxnResponse>("/etcdserverpb.KV/Txn", TxnResponse.Parser);
        var clients = Transport.Both("http://" + etcd.Endpoint);
        try
        {
            var rangeKey = ByteString.CopyFromUtf8("/bench/range");
            await clients[0].CallAsync(put, new PutRequest { Key = rangeKey, Value = value }, cancellationToken);
            rows.Add(await CompareAsync("etcd Put (512 B)", clients, client => i =>
                client.CallAsync(put, new PutRequest { Key = ByteString.CopyFromUtf8($"/bench/put/{client.Name}/{i % 10000}"), Value = value }, cancellationToken)));
            rows.Add(await CompareAsync("etcd Range (1 key)", clients, client => _ =>
                client.CallAsync(range, new RangeRequest { Key = rangeKey }, cancellationToken)));
            // The store's update: put only if the key is unchanged since it was read; a miss returns the current value.
            rows.Add(await CompareAsync("etcd Txn (compare-and-swap)", clients, client => async i =>
            {
                var key = ByteString.CopyFromUtf8($"/bench/txn/{client.Name}/{i % 64}");
                var request = new TxnRequest
                {
                    Compare = { new Compare { Key = key, Target = Compare.Types.CompareTarget.Mod, Result = Compare.Types.CompareResult.Greater, ModRevision = -1 } },
                    Success = { new RequestOp { RequestPut = new PutRequest { Key = key, Value = value } } },
                    Failure = { new RequestOp { RequestRange = new RangeRequest { Key = key } } },
                };
                await client.CallAsync(txn, request, cancellationToken);
            }));
        }
        finally
        {
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }

    if (skipCri)
    {
        Console.Error.WriteLine("CRI part skipped: it starts containerd and needs root.");
    }
    else
    {
        await using var runtime = await ContainerRuntime.StartAsync(
            new ContainerRuntimeOptions { Containerd = new ContainerdOptions { DataDir = Path.Combine(root, "node"), LogLevel = "warn" } },
            NullLoggerFactory.Instance, TimeProvider.System, cancellationToken);
        const string Image = "docker.io/kubesharp/busybox:grpc-bench";
        var image = await OciImageBuilder.BuildBusyboxAsync(
            Image, [], ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"], cancellationToken: cancellationToken);
        var archive = Path.Combine(root, "image.oci.tar");
        await OciImageBuilder.WriteOciArchiveAsync(archive, [image], cancellationToken);
        await new ContainerdImageImporter(runtime.Supervisor!.Layout.Socket).ImportAndWaitAsync(archive, runtime.Images, TimeProvider.System, cancellationToken);
        var clients = Transport.Both(runtime.Endpoint);
        var cycle = new PodCycle(clients, Image, Path.Combine(root, "pod-logs"));
        try
        {
            // A few pods present, so that the list calls return something, as on a node.
            for (var i = 0; i < 3; i++)
            {
                await cycle.StartPodAsync(clients[0], $"resident-{i}", cancellationToken);
            }

            var version = new BenchMethod<VersionRequest, VersionResponse>("/runtime.v1.RuntimeService/Version", VersionResponse.Parser);
            var sandboxes = new BenchMethod<ListPodSandboxRequest, ListPodSandboxResponse>("/runtime.v1.RuntimeService/ListPodSandbox", ListPodSandboxResponse.Parser);
            var containers = new BenchMethod<ListContainersRequest, ListContainersResponse>("/runtime.v1.RuntimeService/ListContainers", ListContainersResponse.Parser);
            var imageStatus = new BenchMethod<ImageStatusRequest, ImageStatusResponse>("/runtime.v1.ImageService/ImageStatus", ImageStatusResponse.Parser);
            rows.Add(await CompareAsync("CRI Version", clients, client => _ => client.CallAsync(version, new VersionRequest { Version = "v1" }, cancellationToken)));
            rows.Add(await CompareAsync("CRI ListPodSandbox (3 pods)", clients, client => _ => client.CallAsync(sandboxes, new ListPodSandboxRequest(), cancellationToken)));
            rows.Add(await CompareAsync("CRI ListContainers (3 containers)", clients, client => _ => client.CallAsync(containers, new ListContainersRequest(), cancellationToken)));
            rows.Add(await CompareAsync("CRI ImageStatus", clients, client => _ =>
                client.CallAsync(imageStatus, new ImageStatusRequest { Image = new ImageSpec { Image = Image } }, cancellationToken)));
            rows.Add(await cycle.CompareAsync(cycles, cycleRounds, cancellationToken));
        }
        finally
        {
            await cycle.RemoveAllAsync(cancellationToken);
            foreach (var client in clients)
            {
                client.Dispose();
            }
        }
    }
}
finally
{
    Directory.Delete(root, recursive: true);
}

var section = new StringBuilder();
section.AppendLine("## gRPC client: Kubesharp.Grpc beside Grpc.Net.Client");
section.AppendLine();
section.AppendLine($"`bench/Kubesharp.Bench.Grpc{(quick ? " --quick" : "")}`: the same unary calls through the project's own gRPC client and through");
section.AppendLine("Grpc.Net.Client 2.85.0 (method descriptors and buffer serialisation shaped as Grpc.Tools generates them), one");
section.AppendLine("client after the other, in alternating order per round, in one run: against a real etcd on loopback (fsync off, so the");
section.AppendLine("disk does not hide the client) and a real containerd over its unix socket. Latency and allocated bytes (all threads)");
section.AppendLine($"come from {sequentialCalls} sequential calls, requests/s from {Workers} concurrent callers for {duration.TotalSeconds:0} s; the pod cycle is");
section.AppendLine("RunPodSandbox + CreateContainer + StartContainer + StopContainer + RemoveContainer + StopPodSandbox + RemovePodSandbox");
section.AppendLine($"(host network), one pod at a time, its figures per cycle (req/s is cycles/s): {cycles} cycles a round, {cycleRounds} rounds. Each figure is");
section.AppendLine($"the better of the rounds ({rounds} for the calls).");
section.AppendLine();
section.AppendLine("| operation | req/s ours | req/s library | p50 ms ours | p50 ms library | p99 ms ours | p99 ms library | B/call ours | B/call library |");
section.AppendLine("|---|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var (operation, ours, library) in rows)
{
    section.AppendLine(CultureInfo.InvariantCulture,
        $"| {operation} | {Rate(ours.RequestsPerSecond)} | {Rate(library.RequestsPerSecond)} | {F(ours.P50Milliseconds, "0.000")} | {F(library.P50Milliseconds, "0.000")} | {F(ours.P99Milliseconds, "0.000")} | {F(library.P99Milliseconds, "0.000")} | {F(ours.BytesPerCall, "0")} | {F(library.BytesPerCall, "0")} |");
}

section.AppendLine();
section.AppendLine(CultureInfo.InvariantCulture,
    $"Library over ours, median over the rows: requests/s ×{Median(rows.Select(r => r.Library.RequestsPerSecond / r.Ours.RequestsPerSecond))}, " +
    $"p50 ×{Median(rows.Select(r => r.Library.P50Milliseconds / r.Ours.P50Milliseconds))}, bytes per call ×{Median(rows.Select(r => r.Library.BytesPerCall / r.Ours.BytesPerCall))}.");
if (skipCri)
{
    section.AppendLine("The containerd rows need root and were not measured in this run.");
}

Console.WriteLine(section);
if (markdownPath is not null)
{
    await BenchmarkReport.WriteSectionAsync(markdownPath, "## gRPC client: Kubesharp.Grpc beside Grpc.Net.Client", section.ToString(), cancellationToken);
}

return 0;

static string F(double value, string format) => BenchmarkReport.Format(value, format);

// Pod cycles run about one a second: their rate needs decimals, call rates do not.
static string Rate(double value) => F(value, value < 100 ? "0.00" : "0");

async Task<(string, CallFigures, CallFigures)> CompareAsync(string operation, Transport[] clients, Func<Transport, Func<int, Task>> call)
{
    var results = new List<CallFigures>[] { [], [] };
    for (var round = 0; round < rounds; round++)
    {
        foreach (var index in round % 2 == 0 ? new[] { 0, 1 } : [1, 0])
        {
            results[index].Add(await CallLoop.MeasureAsync(call(clients[index]), sequentialCalls, Workers, duration));
        }
    }

    Console.Error.WriteLine($"{operation}: done");
    return (operation, Best(results[0]), Best(results[1]));
}

static string Median(IEnumerable<double> ratios) => F(BenchmarkReport.Percentile([.. ratios], 0.5), "0.00");

static CallFigures Best(List<CallFigures> figures) => new(
    figures.Max(f => f.RequestsPerSecond), figures.Min(f => f.P50Milliseconds), figures.Min(f => f.P99Milliseconds), figures.Min(f => f.BytesPerCall));
