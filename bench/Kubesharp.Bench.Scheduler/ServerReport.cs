using System.Globalization;
using Kubesharp.Bench.Common;

/// <summary>
/// Writes server-bench.sh's figures as the "Scheduler: whole server" section of BENCHMARKS.md, so that
/// bench/run (which rebuilds the file) keeps them. Arguments: FILE REPLICAS DEPLOY_NODES DEPLOY_SECONDS IDLE_KB
/// NODES NODES_KB PODS PODS_KB LOAD BUILD, where LOAD is the load average during the run and BUILD says which kubesharp
/// build ran ("the native (Native AOT) executable" or "the JIT build").
/// </summary>
internal static class ServerReport
{
    public static async Task<int> WriteAsync(string[] args)
    {
        if (args.Length < 11)
        {
            await Console.Error.WriteLineAsync("server-report FILE REPLICAS DEPLOY_NODES DEPLOY_SECONDS IDLE_KB NODES NODES_KB PODS PODS_KB LOAD BUILD");
            return 2;
        }

        var file = args[0];
        int Int(int i) => int.Parse(args[i], CultureInfo.InvariantCulture);
        var replicas = Int(1);
        var deployNodes = Int(2);
        var deploySeconds = double.Parse(args[3], CultureInfo.InvariantCulture);
        var idle = Int(4);
        var nodes = Int(5);
        var withNodes = Int(6);
        var pods = Int(7);
        var withPods = Int(8);
        var load = args[9];
        var build = args[10];
        var perNode = (double)(withNodes - idle) / Math.Max(1, nodes);
        var perPod = (double)(withPods - withNodes) / Math.Max(1, pods);
        var perPodAboveIdle = (double)(withPods - idle) / Math.Max(1, pods);
        await BenchmarkReport.WriteSectionAsync(file, "## Scheduler: whole server", $"""
            ## Scheduler: whole server

            Script: `bench/Kubesharp.Bench.Scheduler/server-bench.sh [REPLICAS NODES PODS]` runs the real
            `kubesharp server --disable-agent --simulated-nodes N` (Release; {build}) as its own process and measures the seconds
            from creating a Deployment (pods tolerate the simulated taint) to all replicas Ready, and the server's resident
            memory (RSS) idle, with N simulated nodes, and with the pods Running on them, each settled (60 s, then the median
            of 7 samples 10 s apart: the GC returns a burst's spare memory over tens of seconds). "Above idle" divides the growth
            over the idle server by the pod count (the nodes' own share included); "pods only" divides the growth from
            the pods alone. Load average during the run: {load} (the machine has {Environment.ProcessorCount} cores).

            | measurement | Kubesharp | peer | ratio | source of the peer figure |
            |---|--:|--:|--:|---|
            | {replicas:N0}-replica Deployment, create → all Ready ({deployNodes:N0} simulated nodes) | {deploySeconds.ToString("F1", CultureInfo.InvariantCulture)} s | – | – | no published peer figure at hand |
            | server RSS idle / with {nodes:N0} nodes / with {pods:N0} pods | {idle / 1024.0:F0} / {withNodes / 1024.0:F0} / {withPods / 1024.0:F0} MiB | – | – | – |
            | kB of server RSS per node | {perNode:F1} | – | – | – |
            | kB of server RSS per pod, above idle / pods only | {perPodAboveIdle:F1} / {perPod:F1} | ~130 | {BenchmarkReport.Ratio(perPodAboveIdle, 130)} | k0s, published, not measured here |
            """).ConfigureAwait(false);
        return 0;
    }
}
