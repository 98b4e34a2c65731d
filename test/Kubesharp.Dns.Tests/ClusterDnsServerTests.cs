using System.Net;
using Kubesharp.Dns.Wire;

namespace Kubesharp.Dns.Tests;

[System.Diagnostics.CodeAnalysis.SuppressMessage("Reliability", "CA1001", Justification = "xunit disposes through IAsyncLifetime")]
public sealed class ClusterDnsServerTests : IAsyncLifetime
{
    private readonly DnsTestCluster cluster = DnsTestCluster.Create();
    private FakeUpstreamResolver upstream = null!;
    private ClusterDnsServer server = null!;

    public Task InitializeAsync()
    {
        upstream = new FakeUpstreamResolver();
        var options = new ClusterDnsOptions { ListenEndpoint = new IPEndPoint(IPAddress.Loopback, 0), ForwardTimeout = TimeSpan.FromSeconds(5) };
        var zone = new ClusterDnsZone(options, cluster.Services, cluster.Slices, cluster.Pods);
        server = new ClusterDnsServer(zone, new DnsForwarder([upstream.Endpoint], options.ForwardTimeout), options);
        server.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await server.DisposeAsync();
        await upstream.DisposeAsync();
    }

    private static IPAddress[] Addresses(DnsMessage response) =>
        [.. response.Answers.Select(a => ((AddressData)a.Data).Address).OrderBy(a => a.ToString(), StringComparer.Ordinal)];

    [Fact]
    public async Task Udp_ServiceName_AnswersClusterIpAuthoritatively()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "kubernetes.default.svc.cluster.local", DnsType.A);

        Assert.Equal(DnsResponseCode.NoError, response.ResponseCode);
        Assert.True(response.Authoritative);
        Assert.Equal([IPAddress.Parse("10.43.0.1")], Addresses(response));
        Assert.Equal(0, upstream.Queries);
    }

    [Fact]
    public async Task Tcp_ServiceName_AnswersClusterIp()
    {
        var response = await DnsClient.QueryTcpAsync(server.TcpEndpoint!, "web.shop.svc.cluster.local", DnsType.A);

        Assert.Equal([IPAddress.Parse("10.43.0.20")], Addresses(response));
    }

    [Fact]
    public async Task Udp_MixedCaseName_AnswersWithQuestionCase()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "Web.Shop.SVC.cluster.local", DnsType.A);

        Assert.Equal("Web.Shop.SVC.cluster.local", Assert.Single(response.Answers).Name);
    }

    [Fact]
    public async Task Udp_HeadlessService_AnswersReadyEndpointsOnly()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "db.shop.svc.cluster.local", DnsType.A);

        Assert.Equal([IPAddress.Parse("10.42.0.11"), IPAddress.Parse("10.42.0.12")], Addresses(response));
    }

    [Fact]
    public async Task Udp_HeadlessEndpointHostname_AnswersPodAddress()
    {
        var byHostname = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "db-0.db.shop.svc.cluster.local", DnsType.A);
        var byDashedIp = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "10-42-0-12.db.shop.svc.cluster.local", DnsType.A);
        var notReady = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "db-2.db.shop.svc.cluster.local", DnsType.A);

        Assert.Equal([IPAddress.Parse("10.42.0.11")], Addresses(byHostname));
        Assert.Equal([IPAddress.Parse("10.42.0.12")], Addresses(byDashedIp));
        Assert.Equal(DnsResponseCode.NameError, notReady.ResponseCode);
    }

    [Fact]
    public async Task Udp_NamedPortSrv_AnswersPortAndTargetWithAdditionalAddress()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "_http._tcp.web.shop.svc.cluster.local", DnsType.SRV);

        var srv = (SrvData)Assert.Single(response.Answers).Data;
        Assert.Equal(new SrvData(0, 100, 80, "web.shop.svc.cluster.local"), srv);
        var additional = Assert.Single(response.Additionals);
        Assert.Equal(IPAddress.Parse("10.43.0.20"), ((AddressData)additional.Data).Address);
    }

    [Fact]
    public async Task Udp_HeadlessSrv_AnswersOneTargetPerReadyEndpoint()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "_pg._tcp.db.shop.svc.cluster.local", DnsType.SRV);

        var targets = response.Answers.Select(a => (SrvData)a.Data).OrderBy(s => s.Target, StringComparer.Ordinal).ToList();
        Assert.Equal(["10-42-0-12.db.shop.svc.cluster.local", "db-0.db.shop.svc.cluster.local"], targets.Select(t => t.Target));
        Assert.All(targets, t => Assert.Equal(15432, t.Port));
        Assert.Equal(2, response.Additionals.Count);
    }

    [Fact]
    public async Task Udp_UdpPortWithTcpProtocol_IsNxdomain()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "_dns._tcp.web.shop.svc.cluster.local", DnsType.SRV);

        Assert.Equal(DnsResponseCode.NameError, response.ResponseCode);
    }

    [Fact]
    public async Task Udp_ExternalName_AnswersCname()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "ext.shop.svc.cluster.local", DnsType.A);

        var record = Assert.Single(response.Answers);
        Assert.Equal(DnsType.CNAME, record.Type);
        Assert.Equal("example.org", ((NameData)record.Data).Target);
    }

    [Fact]
    public async Task Udp_UnknownService_IsNxdomainWithSoa()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "nope.shop.svc.cluster.local", DnsType.A);

        Assert.Equal(DnsResponseCode.NameError, response.ResponseCode);
        Assert.Empty(response.Answers);
        Assert.Equal(DnsType.SOA, Assert.Single(response.Authorities).Type);
        Assert.Equal(0, upstream.Queries);
    }

    [Fact]
    public async Task Udp_ExistingNameOtherType_IsNodata()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "web.shop.svc.cluster.local", DnsType.AAAA);

        Assert.Equal(DnsResponseCode.NoError, response.ResponseCode);
        Assert.Empty(response.Answers);
        Assert.Equal(DnsType.SOA, Assert.Single(response.Authorities).Type);
    }

    [Fact]
    public async Task Udp_ServiceIpReverse_AnswersServiceName()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "20.0.43.10.in-addr.arpa", DnsType.PTR);

        Assert.Equal("web.shop.svc.cluster.local", ((NameData)Assert.Single(response.Answers).Data).Target);
    }

    [Fact]
    public async Task Udp_EndpointAndPodReverse_AnswerTheirNames()
    {
        var endpoint = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "11.0.42.10.in-addr.arpa", DnsType.PTR);
        var pod = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "99.0.42.10.in-addr.arpa", DnsType.PTR);

        Assert.Equal("db-0.db.shop.svc.cluster.local", ((NameData)Assert.Single(endpoint.Answers).Data).Target);
        Assert.Equal("10-42-0-99.shop.pod.cluster.local", ((NameData)Assert.Single(pod.Answers).Data).Target);
    }

    [Fact]
    public async Task Udp_PodDashedName_AnswersAddress()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "10-42-0-99.shop.pod.cluster.local", DnsType.A);

        Assert.Equal([IPAddress.Parse("10.42.0.99")], Addresses(response));
    }

    [Fact]
    public async Task Udp_ZoneApex_AnswersSoaAndNs()
    {
        var soa = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "cluster.local", DnsType.SOA);
        var ns = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "cluster.local", DnsType.NS);

        Assert.Equal(DnsType.SOA, Assert.Single(soa.Answers).Type);
        Assert.Equal("ns.dns.cluster.local", ((NameData)Assert.Single(ns.Answers).Data).Target);
    }

    [Fact]
    public async Task Udp_OutsideName_ForwardedToUpstream()
    {
        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "www.example.com", DnsType.A);

        Assert.Equal([FakeUpstreamResolver.Answer], Addresses(response));
        Assert.Equal(1, upstream.Queries);
    }

    [Fact]
    public async Task Tcp_OutsideName_ForwardedOverTcp()
    {
        var response = await DnsClient.QueryTcpAsync(server.TcpEndpoint!, "www.example.com", DnsType.A);

        Assert.Equal([FakeUpstreamResolver.Answer], Addresses(response));
    }

    [Fact]
    public async Task Udp_SilentUpstream_ServfailAfterTimeout()
    {
        // A bound socket that never answers.
        using var silent = new System.Net.Sockets.UdpClient(new IPEndPoint(IPAddress.Loopback, 0));
        var options = new ClusterDnsOptions { ListenEndpoint = new IPEndPoint(IPAddress.Loopback, 0) };
        var zone = new ClusterDnsZone(options, new(), new(), new());
        await using var lonely = new ClusterDnsServer(zone, new DnsForwarder([(IPEndPoint)silent.Client.LocalEndPoint!], TimeSpan.FromMilliseconds(200)), options);
        lonely.Start();

        var response = await DnsClient.QueryUdpAsync(lonely.UdpEndpoint!, "www.example.com", DnsType.A);

        Assert.Equal(DnsResponseCode.ServerFailure, response.ResponseCode);
    }

    [Fact]
    public async Task UdpThenTcp_LargeHeadlessAnswer_TruncatedOverUdpCompleteOverTcp()
    {
        var endpoints = Enumerable.Range(1, 80).Select(i => new Kubesharp.Api.Discovery.V1.Endpoint { Addresses = [$"10.42.2.{i}"], Conditions = new() { Ready = true } }).ToList();
        cluster.Services.Upsert(DnsTestCluster.NewService("shop", "big", "None", new Kubesharp.Api.Core.V1.ServicePort { Name = "x", Port = 1 }));
        cluster.Slices.Upsert(new Kubesharp.Api.Discovery.V1.EndpointSlice
        {
            Metadata = new() { Namespace = "shop", Name = "big-1", Labels = new() { ["kubernetes.io/service-name"] = "big" } },
            Endpoints = endpoints,
        });

        var udp = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "big.shop.svc.cluster.local", DnsType.A);
        var tcp = await DnsClient.QueryTcpAsync(server.TcpEndpoint!, "big.shop.svc.cluster.local", DnsType.A);

        Assert.True(udp.Truncated);
        Assert.True(udp.Answers.Count < 80);
        Assert.False(tcp.Truncated);
        Assert.Equal(80, tcp.Answers.Count);
    }

    [Fact]
    public async Task Udp_CacheChange_VisibleInNextAnswer()
    {
        cluster.Services.Upsert(DnsTestCluster.NewService("shop", "late", "10.43.0.77", new Kubesharp.Api.Core.V1.ServicePort { Name = "x", Port = 1 }));

        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "late.shop.svc.cluster.local", DnsType.A);

        Assert.Equal([IPAddress.Parse("10.43.0.77")], Addresses(response));
    }

    [Fact]
    public async Task Udp_CachedServiceAddressChanged_AnswersNewAddress()
    {
        var before = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "web.shop.svc.cluster.local", DnsType.A);
        cluster.Services.Upsert(DnsTestCluster.NewService("shop", "web", "10.43.0.21", new Kubesharp.Api.Core.V1.ServicePort { Name = "http", Port = 80 }));

        var after = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "web.shop.svc.cluster.local", DnsType.A);

        Assert.Equal([IPAddress.Parse("10.43.0.20")], Addresses(before));
        Assert.Equal([IPAddress.Parse("10.43.0.21")], Addresses(after));
    }

    [Fact]
    public async Task Tcp_CachedServiceDeleted_IsNxdomain()
    {
        var before = await DnsClient.QueryTcpAsync(server.TcpEndpoint!, "web.shop.svc.cluster.local", DnsType.A);
        cluster.Services.Delete("shop/web");

        var after = await DnsClient.QueryTcpAsync(server.TcpEndpoint!, "web.shop.svc.cluster.local", DnsType.A);

        Assert.Equal(DnsResponseCode.NoError, before.ResponseCode);
        Assert.Equal(DnsResponseCode.NameError, after.ResponseCode);
    }

    [Fact]
    public async Task Udp_CachedNxdomainThenServiceCreated_AnswersAddress()
    {
        var before = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "late.shop.svc.cluster.local", DnsType.A);
        cluster.Services.Upsert(DnsTestCluster.NewService("shop", "late", "10.43.0.77", new Kubesharp.Api.Core.V1.ServicePort { Name = "x", Port = 1 }));

        var after = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "late.shop.svc.cluster.local", DnsType.A);

        Assert.Equal(DnsResponseCode.NameError, before.ResponseCode);
        Assert.Equal([IPAddress.Parse("10.43.0.77")], Addresses(after));
    }

    [Fact]
    public async Task Udp_CachedHeadlessEndpointBecomesReady_AnswersIt()
    {
        var before = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "db.shop.svc.cluster.local", DnsType.A);
        var slice = cluster.Slices.Get("shop/db-abcde")!;
        cluster.Slices.Upsert(slice with
        {
            Endpoints = [.. slice.Endpoints!.Select(e => e with { Conditions = new Kubesharp.Api.Discovery.V1.EndpointConditions { Ready = true } })],
        });

        var after = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "db.shop.svc.cluster.local", DnsType.A);

        Assert.Equal(2, before.Answers.Count);
        Assert.Equal([IPAddress.Parse("10.42.0.11"), IPAddress.Parse("10.42.0.12"), IPAddress.Parse("10.42.0.13")], Addresses(after));
    }

    [Fact]
    public async Task Udp_CachedPodReverseAfterPodDeleted_NoLongerAnswersPodName()
    {
        var before = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "99.0.42.10.in-addr.arpa", DnsType.PTR);
        cluster.Pods.Delete("shop/lonely");

        var after = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "99.0.42.10.in-addr.arpa", DnsType.PTR);

        Assert.Equal("10-42-0-99.shop.pod.cluster.local", ((NameData)Assert.Single(before.Answers).Data).Target);
        Assert.DoesNotContain(after.Answers, a => a.Data is NameData { Target: "10-42-0-99.shop.pod.cluster.local" });
        Assert.Equal(1, upstream.Queries);
    }

    [Fact]
    public async Task Udp_CachedNameAskedInOtherCase_AnswersWithQuestionCase()
    {
        await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "web.shop.svc.cluster.local", DnsType.SRV);

        var response = await DnsClient.QueryUdpAsync(server.UdpEndpoint!, "WEB.shop.Svc.cluster.local", DnsType.SRV);

        Assert.Equal("WEB.shop.Svc.cluster.local", response.Questions.Single().Name);
        Assert.All(response.Answers, a => Assert.Equal("WEB.shop.Svc.cluster.local", a.Name));
        Assert.Equal(2, response.Answers.Count);
    }

    [Fact]
    public async Task HandleAsync_EdnsQueryAnsweredTwice_SameBytesAsWrittenFromTheZone()
    {
        var question = new DnsQuestion("Db.shop.svc.cluster.local", DnsType.A);
        var query = DnsMessageWriter.Write(new DnsMessage { Id = 0x4242, RecursionDesired = true, Questions = [question], EdnsUdpSize = 4096 });
        var same = DnsTestCluster.Create();
        var zoneAnswer = new ClusterDnsZone(new ClusterDnsOptions(), same.Services, same.Slices, same.Pods).Answer(question)!;
        var expected = DnsMessageWriter.Write(new DnsMessage
        {
            Id = 0x4242,
            IsResponse = true,
            Authoritative = true,
            RecursionDesired = true,
            RecursionAvailable = true,
            ResponseCode = zoneAnswer.ResponseCode,
            Questions = [question],
            Answers = zoneAnswer.Answers,
            Authorities = zoneAnswer.Authorities,
            Additionals = zoneAnswer.Additionals,
            EdnsUdpSize = ClusterDnsServer.EdnsPayloadSize,
        }, ClusterDnsServer.EdnsPayloadSize);

        var first = await server.HandleAsync(query, overTcp: false, CancellationToken.None);
        var second = await server.HandleAsync(query, overTcp: false, CancellationToken.None);

        Assert.Equal(expected, first);
        Assert.Equal(expected, second);
    }

    [Fact]
    public void TryAnswerFromCache_CachedQuestion_AllocatesNothing()
    {
        var query = DnsMessageWriter.Write(new DnsMessage { Id = 7, RecursionDesired = true, Questions = [new DnsQuestion("Web.Shop.svc.cluster.local", DnsType.A)], EdnsUdpSize = 1232 });
        var response = new byte[ClusterDnsServer.EdnsPayloadSize];
        Assert.True(server.TryAnswerFromCache(query, response, overTcp: false) > 0);

        var before = GC.GetAllocatedBytesForCurrentThread();
        var total = 0;
        for (var i = 0; i < 1000; i++)
        {
            query[1] = (byte)i;
            total += server.TryAnswerFromCache(query, response, overTcp: false);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(total > 0);
        Assert.Equal(0, allocated);
    }

    [Fact]
    public void FromResolvConf_SkipsSelfAndReadsNameservers()
    {
        var upstreams = ClusterDnsUpstreams.FromResolvConf("nameserver 10.43.0.10\nnameserver 192.168.1.1\n# nameserver 1.1.1.1\n", new IPEndPoint(IPAddress.Parse("10.43.0.10"), 53));

        Assert.Equal([new IPEndPoint(IPAddress.Parse("192.168.1.1"), 53)], upstreams);
    }
}
