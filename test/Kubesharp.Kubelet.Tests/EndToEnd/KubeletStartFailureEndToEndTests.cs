using System.Net;
using System.Net.Sockets;
using Kubesharp.Client.Tests;
using Kubesharp.Cri.Tests.Support;
using Microsoft.Extensions.Logging;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// A kubelet (with its own containerd and a real API server) whose endpoint cannot listen: its start fails, and what
/// it began beside the endpoint (the first status, retried until written) ends with it instead of retrying on.
/// </summary>
public sealed class KubeletStartFailureEndToEndTests
{
    private const string RetryMessage = "Node agent loop failed; retrying";

    [RuntimeFact]
    public async Task KubeletService_EndpointPortTaken_UpFailsAndNothingRetriesAfter()
    {
        using var taken = new TcpListener(IPAddress.Any, 0);
        taken.Start();
        await using var api = await TestApiServer.StartAsync();
        var id = Guid.NewGuid().ToString("N")[..6];
        var root = Directory.CreateTempSubdirectory("kskf-").FullName;
        var bridge = "kskf" + id;
        var network = "kskf-test-" + id;
        var log = new RecordingLogger();
        using var loggerFactory = LoggerFactory.Create(builder => builder.AddProvider(log));
        var options = new KubeletOptions
        {
            NodeName = "kskf-" + id,
            DataDir = root,
            PodCidr = $"10.249.{Random.Shared.Next(256)}.0/24",
            BridgeName = bridge,
            NetworkName = network,
            KubeletPort = ((IPEndPoint)taken.LocalEndpoint).Port,
        };
        var agent = new KubeletService(options, api.Client, loggerFactory) { ClientCaPem = api.Host.Certificates.CaPem };
        try
        {
            await agent.StartAsync(CancellationToken.None);
            await Assert.ThrowsAnyAsync<IOException>(() => agent.Up.WaitAsync(TimeSpan.FromMinutes(2)));

            // Retries back off from 200 ms to 5 s: two seconds would hold several.
            await Task.Delay(TimeSpan.FromMilliseconds(500));
            var retries = log.Entries.Count(e => e.Message == RetryMessage);
            await Task.Delay(TimeSpan.FromSeconds(2));
            Assert.Equal(retries, log.Entries.Count(e => e.Message == RetryMessage));
        }
        finally
        {
            await agent.StopAsync(CancellationToken.None);
            agent.Dispose();
            await HostCleanup.RemoveNodeAsync(root, network, bridge);
        }
    }
}
