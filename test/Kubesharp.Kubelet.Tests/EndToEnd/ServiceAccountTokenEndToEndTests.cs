using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Cri.Tests.Support;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// A pod's identity on real containerd: the controllers publish the default ServiceAccount and kube-root-ca.crt, the
/// API server adds the kube-api-access volume, the kubelet writes a token bound to the pod, the CA and the namespace
/// where in-cluster clients look, and the token read inside the container authenticates until the pod is gone.
/// </summary>
[Collection(ServiceNetworkCollection.Name)]
public sealed class ServiceAccountTokenEndToEndTests(ServiceNetworkFixture fixture)
{
    private const string Ns = "identity";
    private const string Dir = "/var/run/secrets/kubernetes.io/serviceaccount";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(3);

    [RuntimeFact]
    public async Task Pod_ReadsItsTokenCaAndNamespace_AndTheTokenAuthenticatesUntilThePodIsDeleted()
    {
        var client = fixture.Client;
        await client.Resource<Namespace>().CreateAsync(new Namespace { ApiVersion = "v1", Kind = "Namespace", Metadata = new ObjectMeta { Name = Ns } });
        try
        {
            // The pod can only start once the controllers made the account it runs as and the CA ConfigMap.
            var configMap = await WaitAsync("kube-root-ca.crt", ct => GetOrNullAsync(client.Resource<ConfigMap>(), "kube-root-ca.crt", ct));
            Assert.Equal(fixture.Server.Certificates.CaPem, configMap.Data!["ca.crt"]);
            await WaitAsync("the default ServiceAccount", ct => GetOrNullAsync(client.Resource<ServiceAccount>(), "default", ct));

            await client.Resource<Pod>().CreateAsync(new Pod
            {
                ApiVersion = "v1", Kind = "Pod",
                Metadata = new ObjectMeta { Name = "app", Namespace = Ns },
                Spec = new PodSpec
                {
                    TerminationGracePeriodSeconds = 1,
                    Containers = [new Container { Name = "app", Image = ServiceNetworkFixture.BusyboxImage, ImagePullPolicy = "Never", Command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"] }],
                },
            });
            var pod = await WaitAsync("a running pod", async ct =>
            {
                var p = await client.Resource<Pod>().GetAsync(Ns, "app", ct);
                return p.Status?.ContainerStatuses is [{ Ready: true, ContainerID: { } }] ? p : null;
            });
            var container = pod.Status!.ContainerStatuses![0].ContainerID!["containerd://".Length..];

            var token = await ExecAsync(container, $"cat {Dir}/token");
            var ca = await ExecAsync(container, $"cat {Dir}/ca.crt");
            Assert.Equal(Ns, await ExecAsync(container, $"cat {Dir}/namespace"));
            Assert.Equal(fixture.Server.Certificates.CaPem, ca);
            Assert.Equal("644", (await ExecAsync(container, $"stat -L -c %a {Dir}/token")).Trim());
            Assert.Equal(fixture.ServiceCidr.KubernetesServiceIp.ToString(), (await ExecAsync(container, "echo -n $KUBERNETES_SERVICE_HOST")));
            Assert.Equal("443", await ExecAsync(container, "echo -n $KUBERNETES_SERVICE_PORT"));

            // In-cluster configuration: the CA read in the pod verifies the API server, the token authenticates as the account.
            using var inCluster = InClusterClient(ca, token);
            using var review = await inCluster.PostAsync("/apis/authentication.k8s.io/v1/selfsubjectreviews", new StringContent("""{"apiVersion":"authentication.k8s.io/v1","kind":"SelfSubjectReview"}""", Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.Created, review.StatusCode);
            var user = JsonNode.Parse(await review.Content.ReadAsStringAsync())!["status"]!["userInfo"]!;
            Assert.Equal($"system:serviceaccount:{Ns}:default", (string?)user["username"]);
            Assert.Equal("app", (string?)user["extra"]!["authentication.kubernetes.io/pod-name"]![0]);
            Assert.Equal(pod.Spec!.NodeName, (string?)user["extra"]!["authentication.kubernetes.io/node-name"]![0]);

            await client.Resource<Pod>().DeleteAsync(Ns, "app", new DeleteOptions { GracePeriodSeconds = 0 });
            await WaitAsync("the token refused once the pod is gone", async ct =>
            {
                using var response = await inCluster.GetAsync($"/api/v1/namespaces/{Ns}/pods", ct);
                return response.StatusCode == HttpStatusCode.Unauthorized ? "refused" : null;
            });
        }
        finally
        {
            await client.Resource<Namespace>().DeleteAsync(null, Ns);
        }
    }

    private HttpClient InClusterClient(string caPem, string token)
    {
        var ca = X509Certificate2.CreateFromPem(caPem);
        var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, certificate, _, _) =>
        {
            using var chain = new X509Chain();
            chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            chain.ChainPolicy.CustomTrustStore.Add(ca);
            chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            return certificate is not null && chain.Build(new X509Certificate2(certificate));
        };
        var http = new HttpClient(handler) { BaseAddress = fixture.Server.Url, Timeout = TimeSpan.FromSeconds(30) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http;
    }

    private static async Task<T?> GetOrNullAsync<T>(ResourceClient<T> resource, string name, CancellationToken cancellationToken)
        where T : class, Kubesharp.ApiMachinery.IKubernetesObject, Kubesharp.ApiMachinery.IKubernetesKind, new()
    {
        try
        {
            return await resource.GetAsync(Ns, name, cancellationToken);
        }
        catch (Kubesharp.ApiMachinery.Errors.StatusException e) when (e.Code == 404)
        {
            return null;
        }
    }

    private async Task<string> ExecAsync(string containerId, string script)
    {
        var result = await fixture.Agent.Kubelet.Runtime!.Runtime.ExecSyncAsync(containerId, ["sh", "-c", script], TimeSpan.FromSeconds(60));
        return result.Stdout.ToStringUtf8() + result.Stderr.ToStringUtf8();
    }

    private static async Task<T> WaitAsync<T>(string what, Func<CancellationToken, Task<T?>> probe)
        where T : class
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        try
        {
            while (true)
            {
                if (await probe(timeout.Token) is { } value)
                {
                    return value;
                }

                await Task.Delay(250, timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"timed out waiting for {what}");
        }
    }
}
