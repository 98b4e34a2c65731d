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
        var first = await level.AdmitAsync(0, 1, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.NotNull(first);
        var a = Enumerable.Range(0, 3).Select(_ => level.AdmitAsync(0, 1, TimeSpan.FromMinutes(1), CancellationToken.None)).ToList();
        var b = level.AdmitAsync(1, 1, TimeSpan.FromMinutes(1), CancellationToken.None);
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
    public async Task Dispatch_WideRequestsOfOneFlow_TakeTheirSeats_AndLeaveTurnsToANarrowFlow()
    {
        var level = new PriorityLevel(new PriorityLevelSpec("test", null, false, 10, 0, true, 2, 1, 10), 10, TimeProvider.System);
        var wait = TimeSpan.FromMinutes(1);
        // With a hand of one, flow hash N lands in queue N: flow 0 lists big collections, flow 1 makes small requests.
        var first = await level.AdmitAsync(0, 10, wait, CancellationToken.None);
        Assert.Equal(10, level.ExecutingSeats);
        var wide = Enumerable.Range(0, 2).Select(_ => level.AdmitAsync(0, 10, wait, CancellationToken.None)).ToList();
        var narrow = Enumerable.Range(0, 5).Select(_ => level.AdmitAsync(1, 1, wait, CancellationToken.None)).ToList();
        Assert.Equal(7, level.Counts().Waiting);

        first!.Dispose();
        using (await wide[0].WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(10, level.ExecutingSeats);
            Assert.All(narrow, n => Assert.False(n.IsCompleted));
        }

        // The wide flow's turn cost it ten seats' worth of virtual time: all five small requests run before its next one.
        var small = await Task.WhenAll(narrow).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(wide[1].IsCompleted);
        Assert.Equal(5, level.ExecutingSeats);
        foreach (var seat in small)
        {
            seat!.Dispose();
        }

        (await wide[1].WaitAsync(TimeSpan.FromSeconds(30)))!.Dispose();
        Assert.Equal((0, 0), (level.ExecutingSeats, level.Counts().Waiting));
    }

    [Fact]
    public async Task Admit_WiderThanTheLevel_TakesAllItsSeats()
    {
        var level = new PriorityLevel(new PriorityLevelSpec("small", null, false, 1, 0, true, 1, 1, 10), 3, TimeProvider.System);
        using (var seat = await level.AdmitAsync(0, 10, TimeSpan.FromMinutes(1), CancellationToken.None))
        {
            Assert.Equal(3, seat!.Width);
            Assert.False(level.AdmitAsync(0, 1, TimeSpan.FromMinutes(1), CancellationToken.None).IsCompleted);
        }
    }

    [Fact]
    public async Task Admit_FullQueueOrRejectLevel_IsRejected_AndAWaitPastTheLimitTimesOut()
    {
        var reject = new PriorityLevel(new PriorityLevelSpec("reject", null, false, 1, 0, false, 0, 0, 0), 1, TimeProvider.System);
        using (var seat = await reject.AdmitAsync(0, 1, TimeSpan.FromMinutes(1), CancellationToken.None))
        {
            Assert.Null(await reject.AdmitAsync(0, 1, TimeSpan.FromMinutes(1), CancellationToken.None));
        }

        var queue = new PriorityLevel(new PriorityLevelSpec("queue", null, false, 1, 0, true, 1, 1, 1), 1, TimeProvider.System);
        using var held = await queue.AdmitAsync(0, 1, TimeSpan.FromMinutes(1), CancellationToken.None);
        var waiting = queue.AdmitAsync(0, 1, TimeSpan.FromMilliseconds(1), CancellationToken.None);
        Assert.Null(await queue.AdmitAsync(0, 1, TimeSpan.FromMinutes(1), CancellationToken.None));
        Assert.Null(await waiting.WaitAsync(TimeSpan.FromSeconds(30)));
        var counts = queue.Counts();
        Assert.Equal((0, 1, 2L, 1L), (counts.Waiting, counts.Executing, counts.Rejected, counts.TimedOut));
    }

    [Fact]
    public async Task Lending_ABusyLevelBorrowsIdleLendableSeats_TheLenderIsNeverKeptFromItsOwn()
    {
        var lending = new SeatLending();
        var lender = new PriorityLevel(new PriorityLevelSpec("lender", null, false, 4, 50, true, 8, 1, 10), 4, TimeProvider.System, lending);
        var borrower = new PriorityLevel(new PriorityLevelSpec("borrower", null, false, 1, 0, true, 8, 1, 10), 1, TimeProvider.System, lending);
        lending.SetLevels([lender, borrower]);
        var wait = TimeSpan.FromMinutes(1);

        // One own seat and the two the idle lender offers (half of its four) start at once; the fourth waits.
        var borrowed = new List<IDisposable>();
        for (var i = 0; i < 3; i++)
        {
            var admitted = borrower.AdmitAsync((ulong)i, 1, wait, CancellationToken.None);
            Assert.True(admitted.IsCompletedSuccessfully, $"request {i} of the borrower waited");
            borrowed.Add((await admitted)!);
        }

        var fourth = borrower.AdmitAsync(3, 1, wait, CancellationToken.None);
        Assert.False(fourth.IsCompleted);
        Assert.Equal(2, borrower.BorrowedSeats);

        // The lender's own four seats are its own whatever it lent.
        var own = new List<IDisposable>();
        for (var i = 0; i < 4; i++)
        {
            var admitted = lender.AdmitAsync((ulong)i, 1, wait, CancellationToken.None);
            Assert.True(admitted.IsCompletedSuccessfully, $"request {i} of the lender waited");
            own.Add((await admitted)!);
        }

        // A borrowed seat given back is not lent again while the lender uses all of its own.
        borrowed[2].Dispose();
        Assert.False(fourth.IsCompleted);

        // Once the lender is idle again its seats go to the waiting borrower.
        own.ForEach(seat => seat.Dispose());
        using (await fourth.WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(2, borrower.BorrowedSeats);
        }

        borrowed[0].Dispose();
        borrowed[1].Dispose();
        Assert.Equal((0, 0), (borrower.Counts().Executing, lender.Counts().Executing));
    }

    [Fact]
    public async Task Lending_BorrowingLimitPercent_CapsWhatALevelTakes()
    {
        var lending = new SeatLending();
        var lender = new PriorityLevel(new PriorityLevelSpec("lender", null, false, 10, 100, true, 8, 1, 10), 10, TimeProvider.System, lending);
        var capped = new PriorityLevel(new PriorityLevelSpec("capped", null, false, 2, 0, true, 8, 1, 10) { BorrowingLimitPercent = 50 }, 2, TimeProvider.System, lending);
        lending.SetLevels([lender, capped]);
        var seats = new List<IDisposable>();
        for (var i = 0; i < 3; i++)
        {
            seats.Add((await capped.AdmitAsync((ulong)i, 1, TimeSpan.FromMinutes(1), CancellationToken.None))!);
        }

        // Two own seats and one borrowed (half of two); the lender's nine idle seats stay its own.
        var waiting = capped.AdmitAsync(3, 1, TimeSpan.FromMinutes(1), CancellationToken.None);
        Assert.False(waiting.IsCompleted);
        seats[0].Dispose();
        (await waiting.WaitAsync(TimeSpan.FromSeconds(30)))!.Dispose();
        seats.Skip(1).ToList().ForEach(seat => seat.Dispose());
    }
}
