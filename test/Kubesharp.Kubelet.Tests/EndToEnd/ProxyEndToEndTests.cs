using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Kubelet.Tests.Support;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>The proxy subresources of nodes, pods and services through the real kubectl (kubectl proxy, get --raw).</summary>
[Collection(NodeCollection.Name)]
public sealed partial class ProxyEndToEndTests(NodeFixture fixture)
{
    private const string Ns = "default";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);

    private Kubectl Kubectl => new(fixture.Server.KubeconfigPath, Path.Combine(fixture.Root, "kubectl-cache"));

    [KubectlFact]
    public async Task KubectlProxy_NodeStatsPodAndService_ReachedThroughTheApi()
    {
        var pod = new Pod
        {
            ApiVersion = "v1",
            Kind = "Pod",
            Metadata = new ObjectMeta { Name = "proxied", Namespace = Ns, Labels = new() { ["app"] = "proxied" } },
            Spec = new PodSpec
            {
                NodeName = fixture.NodeName,
                TerminationGracePeriodSeconds = 1,
                Containers = [new Container
                {
                    Name = "httpd",
                    Image = NodeFixture.BusyboxImage,
                    ImagePullPolicy = "Never",
                    Command = ["sh", "-c", "mkdir -p /www/sub && echo hello-through-the-proxy > /www/index.html && echo nested > /www/sub/page.txt && exec httpd -f -p 8080 -h /www"],
                    Ports = [new ContainerPort { Name = "http", ContainerPortValue = 8080 }],
                }],
            },
        };
        await fixture.Client.Resource<Pod>().CreateAsync(pod);
        await fixture.Client.Resource<Service>().CreateAsync(new Service
        {
            ApiVersion = "v1", Kind = "Service",
            Metadata = new ObjectMeta { Name = "proxied", Namespace = Ns },
            Spec = new ServiceSpec { Selector = new() { ["app"] = "proxied" }, Ports = [new ServicePort { Name = "web", Port = 80, TargetPort = new IntOrString("http") }] },
        });
        try
        {
            await WaitAsync(async ct => (await fixture.Client.Resource<Pod>().GetAsync(Ns, "proxied", ct)).Status?.Phase == "Running");
            // No controllers run beside this node: the Endpoints the endpoints controller would write.
            var podIp = (await fixture.Client.Resource<Pod>().GetAsync(Ns, "proxied")).Status!.PodIP!;
            await fixture.Client.Resource<Endpoints>().CreateAsync(new Endpoints
            {
                ApiVersion = "v1", Kind = "Endpoints",
                Metadata = new ObjectMeta { Name = "proxied", Namespace = Ns },
                Subsets = [new EndpointSubset { Addresses = [new EndpointAddress { Ip = podIp }], Ports = [new EndpointPort { Name = "web", Port = 8080 }] }],
            });

            using var proxy = Kubectl.StartLongRunning(["proxy", "--port=0"]);
            var announced = await proxy.WaitForLineAsync(line => line.StartsWith("Starting to serve on ", StringComparison.Ordinal));
            var port = int.Parse(ServingPort().Match(announced).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(60) };

            // The node's agent: its stats summary and health.
            var summary = JsonDocument.Parse(await http.GetStringAsync($"/api/v1/nodes/{fixture.NodeName}/proxy/stats/summary"));
            Assert.Equal(fixture.NodeName, summary.RootElement.GetProperty("node").GetProperty("nodeName").GetString());
            Assert.Equal("ok", await http.GetStringAsync($"/api/v1/nodes/{fixture.NodeName}/proxy/healthz"));

            // The pod by its declared port, by an explicit port, and a nested path.
            Assert.Equal("hello-through-the-proxy\n", await http.GetStringAsync("/api/v1/namespaces/default/pods/proxied/proxy/index.html"));
            Assert.Equal("hello-through-the-proxy\n", await http.GetStringAsync("/api/v1/namespaces/default/pods/proxied:8080/proxy/index.html"));
            Assert.Equal("nested\n", await http.GetStringAsync("/api/v1/namespaces/default/pods/http:proxied:8080/proxy/sub/page.txt"));

            // The service by its port name, through its one endpoint.
            await WaitAsync(async ct =>
            {
                using var response = await http.GetAsync(new Uri("/api/v1/namespaces/default/services/proxied:web/proxy/index.html", UriKind.Relative), ct);
                return response.StatusCode == HttpStatusCode.OK && await response.Content.ReadAsStringAsync(ct) == "hello-through-the-proxy\n";
            });

            // A pod that does not exist: upstream's NotFound Status.
            using var missing = await http.GetAsync(new Uri("/api/v1/namespaces/default/pods/nope/proxy/", UriKind.Relative));
            Assert.Equal(HttpStatusCode.NotFound, missing.StatusCode);
            Assert.Contains("\"message\":\"pods \\\"nope\\\" not found\"", await missing.Content.ReadAsStringAsync(), StringComparison.Ordinal);

            // kubectl get --raw takes the same path without a local proxy.
            var raw = await Kubectl.RunAsync(["get", "--raw", $"/api/v1/nodes/{fixture.NodeName}/proxy/healthz"]);
            Assert.Equal((0, "ok"), (raw.ExitCode, raw.Stdout));
        }
        finally
        {
            await fixture.Client.Resource<Service>().DeleteAsync(Ns, "proxied");
            try
            {
                await fixture.Client.Resource<Endpoints>().DeleteAsync(Ns, "proxied");
            }
            catch (StatusException e) when (e.IsNotFound())
            {
            }

            await fixture.Client.Resource<Pod>().DeleteAsync(Ns, "proxied");
            await WaitAsync(async ct =>
            {
                try
                {
                    await fixture.Client.Resource<Pod>().GetAsync(Ns, "proxied", ct);
                    return false;
                }
                catch (StatusException e) when (e.IsNotFound())
                {
                    return true;
                }
            });
        }
    }

    [GeneratedRegex(@"127\.0\.0\.1:(\d+)")]
    private static partial Regex ServingPort();

    private static async Task WaitAsync(Func<CancellationToken, Task<bool>> condition)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        while (!await condition(timeout.Token))
        {
            await Task.Delay(250, timeout.Token);
        }
    }
}
