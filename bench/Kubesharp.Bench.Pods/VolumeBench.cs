using System.Diagnostics;
using System.Globalization;
using System.Text;
using Kubesharp.Bench.Common;

namespace Kubesharp.Bench.Pods;

/// <summary>
/// Persistent volumes on the real node: a claim on the default local-path class (WaitForFirstConsumer) created together
/// with the pod that uses it, timed from the claim's POST to its Bound phase and from the pod's POST to Running, beside
/// the same pod with an emptyDir in the same run, one pod at a time, alternating.
/// </summary>
internal static class VolumeBench
{
    public static async Task<List<(string Measurement, double Ours, double Floor)>> MeasureAsync(KubesharpNode node, string image, int runs, CancellationToken cancellationToken)
    {
        List<double> emptyDir = [];
        List<double> claimPod = [];
        List<double> claimBound = [];
        var watch = await PodWatch.StartAsync(node, "default", cancellationToken);
        await using (watch)
        {
            // One of each first, not counted: images, caches and the provisioner warm up.
            for (var run = -1; run < runs; run++)
            {
                var suffix = (run + 1).ToString(CultureInfo.InvariantCulture);
                var plain = await StartPodAsync(node, watch, "ed-" + suffix, image, null, cancellationToken);
                var claim = "vol-" + suffix;
                var claimed = Stopwatch.GetTimestamp();
                await node.SendAsync(HttpMethod.Post, "/api/v1/namespaces/default/persistentvolumeclaims", ClaimJson(claim), cancellationToken);
                var binding = WaitBoundAsync(node, claim, claimed, cancellationToken);
                var withVolume = await StartPodAsync(node, watch, "vp-" + suffix, image, claim, cancellationToken);
                var bound = await binding;
                if (run >= 0)
                {
                    emptyDir.Add(plain);
                    claimPod.Add(withVolume);
                    claimBound.Add(bound);
                }

                await node.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/ed-" + suffix + "?gracePeriodSeconds=0", null, cancellationToken);
                await node.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/pods/vp-" + suffix + "?gracePeriodSeconds=0", null, cancellationToken);
                await node.SendAsync(HttpMethod.Delete, "/api/v1/namespaces/default/persistentvolumeclaims/" + claim, null, cancellationToken);
                await node.WaitEmptyAsync(cancellationToken);
                await WaitNoVolumesAsync(node, cancellationToken);
                Console.Error.WriteLine($"volumes: emptyDir pod {plain:F3} s, claim pod {withVolume:F3} s, claim bound {bound:F3} s");
            }
        }

        var floor50 = BenchmarkReport.Percentile(emptyDir, 0.5);
        var floor99 = BenchmarkReport.Percentile(emptyDir, 0.99);
        return
        [
            ("pod create → Running with a fresh claim, median s (floor: the pod with an emptyDir)", BenchmarkReport.Percentile(claimPod, 0.5), floor50),
            ("pod create → Running with a fresh claim, worst s", BenchmarkReport.Percentile(claimPod, 0.99), floor99),
            ("claim create → Bound (provisioned on the pod's node), median s (floor: the emptyDir pod to Running)", BenchmarkReport.Percentile(claimBound, 0.5), floor50),
            ("claim create → Bound, worst s", BenchmarkReport.Percentile(claimBound, 0.99), floor99),
        ];
    }

    public static string Section(List<(string Measurement, double Ours, double Floor)> rows, int runs, bool quick)
    {
        var section = new StringBuilder();
        section.AppendLine("## Persistent volumes");
        section.AppendLine();
        section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Pods`{(quick ? " (--quick)" : string.Empty)}, as root, on the real `kubesharp server` node ({KubesharpExecutable.Description}). A PersistentVolumeClaim on the");
        section.AppendLine("default `local-path` class (WaitForFirstConsumer, reclaim Delete) is POSTed, then the pod that mounts it: the claim binds");
        section.AppendLine("only after the scheduler picks the node and the node's provisioner makes the directory and the volume, and the pod starts");
        section.AppendLine("once the claim is Bound. The floor is the same busybox pod with an emptyDir, created just before in the same run.");
        section.AppendLine(CultureInfo.InvariantCulture, $"Pod times run from the POST to the watch event showing it Running; the claim's from its POST until a GET (every 20 ms) shows Bound. {runs} runs, one pod at a time;");
        section.AppendLine("pods, claims and volumes (with their directories) are deleted between runs.");
        if (File.Exists("/proc/loadavg"))
        {
            // The machine is shared: its 5-minute load average when the run ended says how quiet it was.
            section.AppendLine(CultureInfo.InvariantCulture, $"5-minute load average at the end of the run: {File.ReadAllText("/proc/loadavg").Split(' ')[1]} (2 cores).");
        }

        section.AppendLine();
        section.AppendLine("| measurement | with a claim | floor (emptyDir pod) | claim / floor |");
        section.AppendLine("|---|--:|--:|--:|");
        foreach (var (measurement, ours, floor) in rows)
        {
            section.AppendLine(CultureInfo.InvariantCulture, $"| {measurement} | {BenchmarkReport.Format(ours, "0.000")} | {BenchmarkReport.Format(floor, "0.000")} | {BenchmarkReport.Ratio(ours, floor)} |");
        }

        return section.ToString();
    }

    private static async Task<double> StartPodAsync(KubesharpNode node, PodWatch watch, string name, string image, string? claim, CancellationToken cancellationToken)
    {
        var running = watch.RunningAsync(name);
        var started = Stopwatch.GetTimestamp();
        var volume = claim is null ? "{\"name\":\"data\",\"emptyDir\":{}}" : "{\"name\":\"data\",\"persistentVolumeClaim\":{\"claimName\":\"" + claim + "\"}}";
        await node.SendAsync(
            HttpMethod.Post,
            "/api/v1/namespaces/default/pods",
            $$$"""{"apiVersion":"v1","kind":"Pod","metadata":{"name":"{{{name}}}"},"spec":{"terminationGracePeriodSeconds":0,"automountServiceAccountToken":false,"containers":[{"name":"c","image":"{{{image}}}","imagePullPolicy":"Never","volumeMounts":[{"name":"data","mountPath":"/data"}]}],"volumes":[{{{volume}}}]}}""",
            cancellationToken);
        var seen = await running.WaitAsync(TimeSpan.FromMinutes(3), cancellationToken);
        return Stopwatch.GetElapsedTime(started, seen).TotalSeconds;
    }

    private static async Task<double> WaitBoundAsync(KubesharpNode node, string claim, long created, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(3))
        {
            var json = await node.GetJsonAsync("/api/v1/namespaces/default/persistentvolumeclaims/" + claim, cancellationToken);
            if ((string?)json?["status"]?["phase"] == "Bound")
            {
                return Stopwatch.GetElapsedTime(created).TotalSeconds;
            }

            await Task.Delay(20, cancellationToken);
        }

        throw new TimeoutException($"claim {claim} did not bind within 3 minutes");
    }

    private static async Task WaitNoVolumesAsync(KubesharpNode node, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromMinutes(2))
        {
            var volumes = await node.GetJsonAsync("/api/v1/persistentvolumes", cancellationToken);
            if (volumes?["items"]?.AsArray().Count == 0)
            {
                return;
            }

            await Task.Delay(100, cancellationToken);
        }

        throw new TimeoutException("volumes were not deleted within 2 minutes");
    }

    private static string ClaimJson(string name) =>
        "{\"apiVersion\":\"v1\",\"kind\":\"PersistentVolumeClaim\",\"metadata\":{\"name\":\"" + name + "\"},\"spec\":{\"accessModes\":[\"ReadWriteOnce\"],\"resources\":{\"requests\":{\"storage\":\"16Mi\"}}}}";
}
