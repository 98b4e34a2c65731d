using System.Globalization;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Cri.Tests.Support;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>The agent's /metrics and /metrics/cadvisor scraped while a real container runs.</summary>
[Collection(NodeCollection.Name)]
public sealed class KubeletMetricsEndToEndTests(NodeFixture fixture)
{
    private const string Ns = "default";

    [RuntimeFact]
    public async Task Metrics_RunningPod_CountedTimedAndMeasured()
    {
        var name = "metered-" + Guid.NewGuid().ToString("N")[..6];
        var before = await ScrapeAsync("/metrics");
        await fixture.Client.Resource<Pod>().CreateAsync(new Pod
        {
            Metadata = new ObjectMeta { Name = name, Namespace = Ns },
            Spec = new PodSpec
            {
                NodeName = fixture.NodeName,
                TerminationGracePeriodSeconds = 2,
                Containers = [new Container { Name = "app", Image = NodeFixture.BusyboxImage, ImagePullPolicy = "Never", Command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"] }],
            },
        });
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while ((await fixture.Client.Resource<Pod>().GetAsync(Ns, name, timeout.Token)).Status?.Phase != "Running")
            {
                await Task.Delay(250, timeout.Token);
            }

            var after = await ScrapeAsync("/metrics");
            Assert.True(Get(after, "kubelet_running_pods") >= 1);
            Assert.True(Get(after, "kubelet_running_containers{container_state=\"running\"}") >= 1);
            Assert.True(after.ContainsKey("kubelet_running_containers{container_state=\"exited\"}"));
            Assert.True(Get(after, "kubelet_pod_start_duration_seconds_count") - Get(before, "kubelet_pod_start_duration_seconds_count") >= 1);
            Assert.True(Get(after, "kubelet_pod_start_duration_seconds_sum") > Get(before, "kubelet_pod_start_duration_seconds_sum"));
            // The process's metrics follow the kubelet's own.
            Assert.True(Get(after, "process_cpu_seconds_total") > 0);

            var cadvisor = await ScrapeAsync("/metrics/cadvisor");
            var cpu = cadvisor.Single(s => s.Key.StartsWith("container_cpu_usage_seconds_total{container=\"app\",", StringComparison.Ordinal) && s.Key.Contains($"pod=\"{name}\"", StringComparison.Ordinal));
            Assert.Contains($"namespace=\"{Ns}\"", cpu.Key, StringComparison.Ordinal);
            // The runtime's reference to the container's image (containerd answers its ID here, not the name the pod asked for).
            Assert.Matches("image=\"[^\"]+\"", cpu.Key);
            Assert.True(cpu.Value >= 0);
            var memory = cadvisor.Single(s => s.Key.StartsWith("container_memory_working_set_bytes{container=\"app\",", StringComparison.Ordinal) && s.Key.Contains($"pod=\"{name}\"", StringComparison.Ordinal));
            Assert.True(memory.Value > 0);
        }
        finally
        {
            await fixture.Client.Resource<Pod>().DeleteAsync(Ns, name);
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            while (true)
            {
                try
                {
                    await fixture.Client.Resource<Pod>().GetAsync(Ns, name, timeout.Token);
                }
                catch (StatusException e) when (e.IsNotFound())
                {
                    break;
                }

                await Task.Delay(250, timeout.Token);
            }
        }
    }

    private static double Get(Dictionary<string, double> samples, string series) => samples.GetValueOrDefault(series);

    private async Task<Dictionary<string, double>> ScrapeAsync(string path)
    {
        using var handler = new SocketsHttpHandler();
#pragma warning disable CA5359 // the agent's endpoint has a self-signed certificate
        handler.SslOptions.RemoteCertificateValidationCallback = (_, _, _, _) => true;
#pragma warning restore CA5359
        using var client = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(fixture.Server.Certificates.AdminCertificatePem, fixture.Server.Certificates.AdminKeyPem);
        handler.SslOptions.ClientCertificates = [client];
        using var http = new HttpClient(handler);
        using var response = await http.GetAsync(new Uri($"https://127.0.0.1:{fixture.Agent.KubeletPort}{path}"));
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
        var samples = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (var line in (await response.Content.ReadAsStringAsync()).Split('\n'))
        {
            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            var space = line.LastIndexOf(' ');
            samples[line[..space]] = double.Parse(line[(space + 1)..], CultureInfo.InvariantCulture);
        }

        return samples;
    }
}
