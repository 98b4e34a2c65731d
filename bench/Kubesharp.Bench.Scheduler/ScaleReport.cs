using System.Globalization;
using Kubesharp.Bench.Common;

/// <summary>
/// Writes server-bench.sh --scale's figures as the "Scale: one server" section of BENCHMARKS.md. Arguments: FILE NODES
/// PODS SECONDS NODES_KB PODS_KB LOAD BUILD, where NODES_KB and PODS_KB are the server's RSS with the nodes registered and
/// with all pods Ready (read at once, not settled), LOAD the load average during the run and BUILD which kubesharp build ran.
/// </summary>
internal static class ScaleReport
{
    public static async Task<int> WriteAsync(string[] args)
    {
        if (args.Length < 8)
        {
            await Console.Error.WriteLineAsync("scale-report FILE NODES PODS SECONDS NODES_KB PODS_KB LOAD BUILD");
            return 2;
        }

        int Int(int i) => int.Parse(args[i], CultureInfo.InvariantCulture);
        var nodes = Int(1);
        var pods = Int(2);
        var seconds = double.Parse(args[3], CultureInfo.InvariantCulture);
        var withNodes = Int(4);
        var withPods = Int(5);
        var perPod = (double)(withPods - withNodes) / Math.Max(1, pods);
        await BenchmarkReport.WriteSectionAsync(args[0], "## Scale: one server", $"""
            ## Scale: one server

            Script: `bench/Kubesharp.Bench.Scheduler/server-bench.sh --scale x NODES PODS` runs the real
            `kubesharp server --disable-agent --simulated-nodes NODES` (Release; {args[7]}) as its own process, creates one
            Deployment of PODS replicas (pods tolerate the simulated taint) and measures the seconds until all are Ready, the
            server's RSS with the nodes registered and with all pods Ready (read at once, not settled), and checks that every
            node is still Ready afterwards (their heartbeats kept up). Load average during the run: {args[6]} (the machine
            has {Environment.ProcessorCount} cores).

            | measurement | Kubesharp | target | ratio |
            |---|--:|--:|--:|
            | {nodes:N0} simulated nodes + {pods:N0} pods in one server: seconds until all pods Ready | {seconds.ToString("F1", CultureInfo.InvariantCulture)} | all Running | – |
            | pods Ready per second over that time | {pods / seconds:F0} | – | – |
            | server RSS with the nodes / with the pods, MiB | {withNodes / 1024.0:F0} / {withPods / 1024.0:F0} | – | – |
            | kB of server RSS per pod (growth from the pods) | {perPod:F1} | 20 | {BenchmarkReport.Ratio(perPod, 20)} |
            """).ConfigureAwait(false);
        return 0;
    }
}
