using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using System.Text.Json.Nodes;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ApiServer.Security;
using Kubesharp.Client;
using Kubesharp.Identities;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// The in-process transport the server's components use (<c>ApiServerHost.CreateInProcessHandler</c> through
/// <c>ComponentClient</c>): the whole request pipeline of the real server, under the component's own identity (the
/// name and groups its certificate would carry), without a connection to the server's port.
/// </summary>
[Collection(ServerCollection.Name)]
public sealed class InProcessTransportTests(TestServer server) : IAsyncLifetime
{
    private static readonly TimeSpan Bound = TimeSpan.FromSeconds(60);
    private readonly string ns = "inproc-" + Guid.NewGuid().ToString("N")[..10];

    public async Task InitializeAsync() =>
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync("/api/v1/namespaces", $$$"""{"metadata":{"name":"{{{ns}}}"}}""")).Status);

    public async Task DisposeAsync() => await server.SendAsync(HttpMethod.Delete, $"/api/v1/namespaces/{ns}");

    private KubernetesClient ControllerManager(bool loopbackHttps = false) =>
        ComponentClient.Create(server.Host, ComponentIdentities.ControllerManager, "kube-controller-manager", loopbackHttps);

    [Fact]
    public async Task ComponentClient_CreateListPatchGet_ServedWithoutAConnectionToTheServer()
    {
        var before = EstablishedConnections(server.Host.Url.Port);
        using (var client = ControllerManager())
        {
            var configMaps = client.Resource<ConfigMap>();
            var created = await configMaps.CreateAsync(ConfigMap("first", "a", "1"));
            Assert.Equal("1", created.Data!["a"]);
            Assert.False(string.IsNullOrEmpty(created.Metadata!.ResourceVersion));

            var list = await configMaps.ListAsync(ns);
            Assert.Contains(list.Items, c => c.Metadata!.Name == "first");

            var patched = await configMaps.PatchAsync(ns, "first", PatchType.Merge, """{"data":{"b":"2"}}""");
            Assert.Equal("2", patched.Data!["b"]);

            var read = await configMaps.GetAsync(ns, "first");
            Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" }, read.Data);
            Assert.Equal(patched.Metadata!.ResourceVersion, read.Metadata!.ResourceVersion);
            Assert.Equal(before, EstablishedConnections(server.Host.Url.Port));
        }

        // The same requests over loopback HTTPS do open one: the count above can see a connection.
        using var https = ControllerManager(loopbackHttps: true);
        await https.Resource<ConfigMap>().GetAsync(ns, "first");
        Assert.True(EstablishedConnections(server.Host.Url.Port) > before, "a loopback HTTPS client holds a connection to the server's port");
    }

    [Fact]
    public async Task InProcessHandler_FailedRequests_StatusErrorsWithTheirCodes()
    {
        using var client = ControllerManager();
        var configMaps = client.Resource<ConfigMap>();
        var missing = await Assert.ThrowsAsync<StatusException>(() => configMaps.GetAsync(ns, "absent"));
        Assert.Equal((404, StatusReason.NotFound), (missing.Code, missing.Reason));

        await configMaps.CreateAsync(ConfigMap("twice", "a", "1"));
        var conflict = await Assert.ThrowsAsync<StatusException>(() => configMaps.CreateAsync(ConfigMap("twice", "a", "1")));
        Assert.Equal((409, StatusReason.AlreadyExists), (conflict.Code, conflict.Reason));

        var invalid = await Assert.ThrowsAsync<StatusException>(() => configMaps.CreateAsync(ConfigMap("Not_A_Name", "a", "1")));
        Assert.Equal((422, StatusReason.Invalid), (invalid.Code, invalid.Reason));
        Assert.Contains("Not_A_Name", invalid.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task InProcessHandler_RequestOutsideTheComponentsRole_ForbiddenAsItself()
    {
        using var client = ControllerManager();

        // The controller manager's own ClusterRole lets it read namespaces but not create them.
        var forbidden = await Assert.ThrowsAsync<StatusException>(() => client.Resource<Namespace>().CreateAsync(new Namespace { Metadata = new ObjectMeta { Name = ns + "-other" } }));
        Assert.Equal((403, StatusReason.Forbidden), (forbidden.Code, forbidden.Reason));
        Assert.Contains("\"" + ComponentIdentities.ControllerManager + "\"", forbidden.Message, StringComparison.Ordinal);
        Assert.Equal(ns, (await client.Resource<Namespace>().GetAsync(null, ns)).Metadata!.Name);
    }

    [Theory]
    [InlineData(ComponentIdentities.ControllerManager, new string[0])]
    [InlineData("system:node:in-process-node", new[] { ComponentIdentities.NodesGroup })]
    public async Task ComponentClient_InProcess_IsTheComponentWithItsGroups(string user, string[] groups)
    {
        using var client = ComponentClient.Create(server.Host, user, "test");
        var review = await client.SendRequiredJsonAsync(HttpMethod.Post, "/apis/authentication.k8s.io/v1/selfsubjectreviews", new JsonObject
        {
            ["apiVersion"] = "authentication.k8s.io/v1",
            ["kind"] = "SelfSubjectReview",
        });
        var userInfo = review!["status"]!["userInfo"]!;
        Assert.Equal(user, (string?)userInfo["username"]);
        Assert.Equal([.. groups, "system:authenticated"], userInfo["groups"]!.AsArray().Select(g => (string?)g));
    }

    [Fact]
    public async Task ComponentClient_InProcessNode_IsHeldToItsOwnNodeAsOverHttps()
    {
        // The node authorizer and NodeRestriction know a kubelet by its name and system:nodes, as they would its certificate.
        using var kubelet = ComponentClient.Create(server.Host, ComponentIdentities.NodeUser(ns), "kubesharp-agent");
        var nodes = kubelet.Resource<Node>();
        try
        {
            await nodes.CreateAsync(new Node { Metadata = new ObjectMeta { Name = ns } });
            var other = await Assert.ThrowsAsync<StatusException>(() => nodes.CreateAsync(new Node { Metadata = new ObjectMeta { Name = ns + "-other" } }));
            Assert.Equal((403, StatusReason.Forbidden), (other.Code, other.Reason));
            Assert.Contains($"node \"{ns}\" is not allowed to modify node \"{ns}-other\"", other.Message, StringComparison.Ordinal);
        }
        finally
        {
            await server.SendAsync(HttpMethod.Delete, $"/api/v1/nodes/{ns}");
        }
    }

    [Fact]
    public async Task InProcessHandler_LargeBodies_CarriedWholeAndOverTheLimitRefused()
    {
        using var client = ControllerManager();
        var configMaps = client.Resource<ConfigMap>();
        var large = new string('x', 1024 * 1024);
        await configMaps.CreateAsync(ConfigMap("large", "blob", large));
        Assert.Equal(large, (await configMaps.GetAsync(ns, "large")).Data!["blob"]);

        // Past the API's 3 MiB request limit: refused as upstream does, before anything is stored.
        var tooLarge = await Assert.ThrowsAsync<StatusException>(() => configMaps.CreateAsync(ConfigMap("huge", "blob", new string('x', 4 * 1024 * 1024))));
        Assert.Equal(413, tooLarge.Code);
    }

    [Fact]
    public async Task InProcessHandler_Watch_StreamsEventsAsTheyHappen()
    {
        using var client = ControllerManager();
        var configMaps = client.Resource<ConfigMap>();
        var start = await configMaps.ListAsync(ns);
        using var stop = new CancellationTokenSource(Bound);
        await using var events = configMaps.WatchAsync(ns, new ListOptions { ResourceVersion = start.ResourceVersion }, stop.Token).GetAsyncEnumerator(stop.Token);

        // Each event arrives while the watch stays open: written by another client, seen on this one's stream.
        foreach (var name in new[] { "one", "two" })
        {
            Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", $$$"""{"metadata":{"name":"{{{name}}}"}}""")).Status);
            Assert.True(await events.MoveNextAsync());
            Assert.Equal((WatchEventType.Added, name), (events.Current.Type, events.Current.Object.Metadata!.Name));
        }

        await configMaps.DeleteAsync(ns, "one");
        Assert.True(await events.MoveNextAsync());
        Assert.Equal((WatchEventType.Deleted, "one"), (events.Current.Type, events.Current.Object.Metadata!.Name));
    }

    [Fact]
    public async Task InProcessHandler_IdleWatch_WaitsWithAZeroByteRead()
    {
        var (certificatePem, keyPem) = ComponentIdentities.Issue(server.Host.Certificates, ComponentIdentities.ControllerManager, TimeProvider.System);
        using var certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
        var reads = new ConcurrentQueue<int>();
        using var client = new KubernetesClient(
            new KubernetesClientOptions { Server = server.Host.Url },
            new ReadRecordingHandler(server.Host.CreateInProcessHandler(certificate), reads));
        var configMaps = client.Resource<ConfigMap>();
        var start = await configMaps.ListAsync(ns);
        using var stop = new CancellationTokenSource(Bound);
        await using var events = configMaps.WatchAsync(ns, new ListOptions { ResourceVersion = start.ResourceVersion }, stop.Token).GetAsyncEnumerator(stop.Token);

        var first = events.MoveNextAsync();
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", $$$"""{"metadata":{"name":"one"}}""")).Status);
        Assert.True(await first);
        Assert.Equal("one", events.Current.Object.Metadata!.Name);

        // Asked for the next event with nothing pending, the watch waits on a read of no bytes: it holds no buffer.
        var readsBefore = reads.Count;
        var second = events.MoveNextAsync();
        using (var wait = new CancellationTokenSource(Bound))
        {
            while (reads.Count == readsBefore)
            {
                await Task.Delay(10, wait.Token);
            }
        }

        Assert.Equal(0, reads.Last());
        Assert.False(second.IsCompleted);

        // The next event wakes it, and is read whole.
        Assert.Equal(HttpStatusCode.Created, (await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", $$$"""{"metadata":{"name":"two"}}""")).Status);
        Assert.True(await second);
        Assert.Equal((WatchEventType.Added, "two"), (events.Current.Type, events.Current.Object.Metadata!.Name));
        Assert.Contains(reads.Skip(readsBefore), length => length > 0);
    }

    [Fact]
    public async Task InProcessHandler_WatchCancelled_ServerSideWatchEnds()
    {
        using var client = ControllerManager();
        var configMaps = client.Resource<ConfigMap>();
        var baseline = await ConfigMapWatchesAsync();
        var from = (await configMaps.ListAsync(ns)).ResourceVersion;
        using var stop = new CancellationTokenSource();
        var started = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var watching = Task.Run(async () =>
        {
            try
            {
                await foreach (var e in configMaps.WatchAsync(ns, new ListOptions { ResourceVersion = from, TimeoutSeconds = 600 }, stop.Token))
                {
                    started.TrySetResult();
                }
            }
            catch (OperationCanceledException)
            {
            }
        });
        await server.PostAsync($"/api/v1/namespaces/{ns}/configmaps", """{"metadata":{"name":"seen"}}""");
        await started.Task.WaitAsync(Bound);
        Assert.Equal(baseline + 1, await ConfigMapWatchesAsync());

        // Cancelling the client's read closes the response; the server's handler must end with it, not run to its timeout.
        await stop.CancelAsync();
        await watching.WaitAsync(Bound);
        using var wait = new CancellationTokenSource(Bound);
        while (await ConfigMapWatchesAsync() != baseline)
        {
            await Task.Delay(50, wait.Token);
        }
    }

    private ConfigMap ConfigMap(string name, string key, string value) => new()
    {
        Metadata = new ObjectMeta { Name = name, Namespace = ns },
        Data = new() { [key] = value },
    };

    /// <summary>The server's open configmap watches (apiserver_longrunning_requests), all clients together.</summary>
    private async Task<long> ConfigMapWatchesAsync()
    {
        var text = await server.Client.GetStringAsync("/metrics");
        long total = 0;
        foreach (var line in text.Split('\n'))
        {
            if (line.StartsWith("apiserver_longrunning_requests{", StringComparison.Ordinal) && line.Contains("resource=\"configmaps\"", StringComparison.Ordinal) && line.Contains("verb=\"WATCH\"", StringComparison.Ordinal))
            {
                total += (long)double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            }
        }

        return total;
    }

    /// <summary>Established TCP connections whose local end is <paramref name="port"/>: the server's side of each client connection.</summary>
    private static int EstablishedConnections(int port)
    {
        var count = 0;
        foreach (var table in new[] { "/proc/net/tcp", "/proc/net/tcp6" })
        {
            if (!File.Exists(table))
            {
                continue;
            }

            foreach (var line in File.ReadLines(table, Encoding.ASCII).Skip(1))
            {
                var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length > 3 && fields[3] == "01" && int.Parse(fields[1][(fields[1].LastIndexOf(':') + 1)..], NumberStyles.HexNumber, CultureInfo.InvariantCulture) == port)
                {
                    count++;
                }
            }
        }

        return count;
    }

    /// <summary>Hands each response body through a <see cref="ReadRecordingStream"/>.</summary>
    private sealed class ReadRecordingHandler(HttpMessageHandler inner, ConcurrentQueue<int> reads) : DelegatingHandler(inner)
    {
        protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = await base.SendAsync(request, cancellationToken);
            var original = response.Content;
            var recorded = new StreamContent(new ReadRecordingStream(await original.ReadAsStreamAsync(cancellationToken), reads));
            foreach (var header in original.Headers)
            {
                recorded.Headers.TryAddWithoutValidation(header.Key, header.Value);
            }

            response.Content = recorded;
            return response;
        }
    }

    /// <summary>Records the size of the buffer each read of the body is given.</summary>
    private sealed class ReadRecordingStream(Stream inner, ConcurrentQueue<int> reads) : Stream
    {
        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            reads.Enqueue(buffer.Length);
            return inner.ReadAsync(buffer, cancellationToken);
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
            }

            base.Dispose(disposing);
        }
    }
}
