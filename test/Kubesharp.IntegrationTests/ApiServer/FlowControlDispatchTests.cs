using Kubesharp.ApiServer.FlowControl;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>The pieces of API Priority and Fairness that need no server: request info, shuffle sharding, fair dispatch.</summary>
public sealed class FlowControlDispatchTests
{
    [Theory]
    [InlineData("GET", "/api/v1/namespaces/ns/pods", "", true, "list", "", "pods", "ns", "")]
    [InlineData("GET", "/api/v1/namespaces/ns/pods/p/log", "", true, "get", "", "pods/log", "ns", "p")]
    [InlineData("GET", "/api/v1/namespaces/ns/pods", "watch=true", true, "watch", "", "pods", "ns", "")]
    [InlineData("GET", "/api/v1/watch/namespaces/ns/pods", "", true, "watch", "", "pods", "ns", "")]
    [InlineData("DELETE", "/apis/apps/v1/namespaces/ns/deployments", "", true, "deletecollection", "apps", "deployments", "ns", "")]
    [InlineData("PATCH", "/apis/apps/v1/namespaces/ns/deployments/d/scale", "", true, "patch", "apps", "deployments/scale", "ns", "d")]
    [InlineData("GET", "/api/v1/namespaces/ns", "", true, "get", "", "namespaces", "ns", "ns")]
    [InlineData("PUT", "/api/v1/namespaces/ns/finalize", "", true, "update", "", "namespaces/finalize", "ns", "ns")]
    [InlineData("POST", "/api/v1/nodes", "", true, "create", "", "nodes", "", "")]
    [InlineData("GET", "/version", "", false, "get", "", "", "", "")]
    [InlineData("GET", "/apis/apps/v1", "", false, "get", "", "", "", "")]
    public void Resolve_Path_GivesUpstreamsRequestInfo(string method, string path, string query, bool resource, string verb, string group, string qualified, string ns, string name)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.QueryString = new QueryString(query.Length > 0 ? "?" + query : string.Empty);
        var info = RequestInfo.Resolve(context.Request, path);
        Assert.Equal(resource, info.IsResourceRequest);
        Assert.Equal(verb, info.Verb);
        Assert.Equal(group, info.ApiGroup);
        Assert.Equal(qualified, info.QualifiedResource);
        Assert.Equal(ns, info.Namespace);
        Assert.Equal(name, info.Name);
    }

    [Theory]
    [InlineData("GET", "/api/v1/namespaces/ns/pods", "watch=1", true)]
    [InlineData("GET", "/api/v1/namespaces/ns/pods/p/log", "", true)]
    [InlineData("POST", "/api/v1/namespaces/ns/pods/p/exec", "", true)]
    [InlineData("GET", "/api/v1/namespaces/ns/pods/p/portforward", "", true)]
    [InlineData("GET", "/api/v1/namespaces/ns/services/s/proxy/metrics", "", true)]
    [InlineData("GET", "/api/v1/namespaces/ns/pods", "", false)]
    [InlineData("POST", "/api/v1/namespaces/ns/pods/p/eviction", "", false)]
    public void LongRunning_WatchesAndStreams_AreLongRunning(string method, string path, string query, bool longRunning)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.QueryString = new QueryString(query.Length > 0 ? "?" + query : string.Empty);
        Assert.Equal(longRunning, RequestInfo.Resolve(context.Request, path).IsLongRunning);
    }

    [Fact]
    public void Deal_AnyHash_GivesDistinctCardsInTheDeck_AndSpreadsFlows()
    {
        var dealer = new ShuffleShardDealer(128, 6);
        var firstCards = new HashSet<int>();
        for (var i = 0; i < 2000; i++)
        {
            var hand = dealer.Deal(ShuffleShardDealer.FlowHash("global-default", "user-" + i));
            Assert.Equal(6, hand.Length);
            Assert.Equal(6, hand.Distinct().Count());
            Assert.All(hand, card => Assert.InRange(card, 0, 127));
            firstCards.Add(hand[0]);
        }

        // 2,000 flows over 128 queues reach nearly all of them.
        Assert.True(firstCards.Count > 120, $"only {firstCards.Count} queues were dealt first");
        Assert.Equal(dealer.Deal(42), dealer.Deal(42));
    }

    [Fact]
    public async Task Dispatch_TwoFlowsOnOneSeat_TakeTurnsInsteadOfFirstComeFirstServed()
    {
        var spec = new PriorityLevelSpec("test", null, false, 1, 0, true, 8, 1, 10);
        var level = new PriorityLevel(spec, 1, TimeProvider.System);
        // With a hand of one, flow hash N lands in queue N.
        var first = await level.AdmitAsync(0, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.NotNull(first);
        var a = Enumerable.Range(0, 3).Select(_ => level.AdmitAsync(0, TimeSpan.FromMinutes(1), CancellationToken.None)).ToList();
        var b = level.AdmitAsync(1, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.Equal(4, level.Counts().Waiting);

        first.Dispose();
        using (var a0 = await a[0].WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.False(b.IsCompleted);
        }

        using (var b0 = await b.WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.False(a[1].IsCompleted);
        }

        (await a[1].WaitAsync(TimeSpan.FromSeconds(30)))!.Dispose();
        (await a[2].WaitAsync(TimeSpan.FromSeconds(30)))!.Dispose();
        var counts = level.Counts();
        Assert.Equal((0, 0, 5L), (counts.Waiting, counts.Executing, counts.Dispatched));
    }

    [Fact]
    public async Task Admit_FullQueueOrRejectLevel_IsRejected_AndAWaitPastTheLimitTimesOut()
    {
        var reject = new PriorityLevel(new PriorityLevelSpec("reject", null, false, 1, 0, false, 0, 0, 0), 1, TimeProvider.System);
        using (var seat = await reject.AdmitAsync(0, TimeSpan.FromMinutes(1), CancellationToken.None))
        {
            Assert.Null(await reject.AdmitAsync(0, TimeSpan.FromMinutes(1), CancellationToken.None));
        }

        var queue = new PriorityLevel(new PriorityLevelSpec("queue", null, false, 1, 0, true, 1, 1, 1), 1, TimeProvider.System);
        using var held = await queue.AdmitAsync(0, TimeSpan.FromMinutes(1), CancellationToken.None);
        var waiting = queue.AdmitAsync(0, TimeSpan.FromMilliseconds(1), CancellationToken.None);
        Assert.Null(await queue.AdmitAsync(0, TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        var counts = queue.Counts();
        Assert.Equal((0, 1, 2L, 1L), (counts.Waiting, counts.Executing, counts.Rejected, counts.TimedOut));
    }
}
