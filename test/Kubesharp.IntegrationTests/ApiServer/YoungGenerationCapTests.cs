using Kubesharp.ApiServer.Memory;

namespace Kubesharp.IntegrationTests.ApiServer;

public sealed class YoungGenerationCapTests
{
    private const long Cap = 16L << 20;

    // The process's young collections and allocated bytes as the cap reads them; collecting counts one more.
    private sealed class Counters
    {
        public int Collections;
        public long Allocated;
        public int Forced;

        public YoungGenerationCap NewCap() =>
            new(YoungGenerationCapTests.Cap, () => Volatile.Read(ref Collections), () => Interlocked.Read(ref Allocated), () =>
            {
                Interlocked.Increment(ref Forced);
                Interlocked.Increment(ref Collections);
            });
    }

    [Fact]
    public void Check_CapAllocatedWithoutACollection_CollectsOnceAndCountsFromThere()
    {
        var counters = new Counters { Collections = 3, Allocated = 100 };
        var cap = counters.NewCap();

        counters.Allocated += Cap;
        Assert.True(cap.Check());
        Assert.Equal(1, counters.Forced);

        // Nothing allocated since the collection it made: no second one.
        Assert.False(cap.Check());
        counters.Allocated += Cap - 1;
        Assert.False(cap.Check());
        counters.Allocated += 1;
        Assert.True(cap.Check());
        Assert.Equal(2, cap.Collections);
    }

    [Fact]
    public void Check_BelowTheCap_LeavesTheCollectorAlone()
    {
        var counters = new Counters();
        var cap = counters.NewCap();

        counters.Allocated += Cap - 1;

        Assert.False(cap.Check());
        Assert.Equal(0, counters.Forced);
    }

    [Fact]
    public void Check_ACollectionOfItsOwnDuringThePeriod_WaitsForTheCapAfterIt()
    {
        // A server allocating fast collects on its own: the cap stays out of the way however much was allocated.
        var counters = new Counters();
        var cap = counters.NewCap();

        counters.Allocated += 10 * Cap;
        counters.Collections++;
        Assert.False(cap.Check());

        counters.Allocated += Cap / 2;
        Assert.False(cap.Check());
        counters.Allocated += Cap / 2;
        Assert.True(cap.Check());
        Assert.Equal(1, counters.Forced);
    }

    [Fact]
    public async Task RunAsync_QuietAllocation_CollectsEachPeriodItPassesTheCapUntilStopped()
    {
        var counters = new Counters();
        var cap = counters.NewCap();
        using var stop = new CancellationTokenSource();
        var run = cap.RunAsync(TimeSpan.FromMilliseconds(10), TimeProvider.System, stop.Token);

        Interlocked.Add(ref counters.Allocated, Cap);
        for (var i = 0; i < 500 && Volatile.Read(ref counters.Forced) == 0; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(1, Volatile.Read(ref counters.Forced));
        Interlocked.Add(ref counters.Allocated, Cap);
        for (var i = 0; i < 500 && Volatile.Read(ref counters.Forced) == 1; i++)
        {
            await Task.Delay(10);
        }

        Assert.Equal(2, Volatile.Read(ref counters.Forced));
        await stop.CancelAsync();
        await run.WaitAsync(TimeSpan.FromSeconds(10));
        Interlocked.Add(ref counters.Allocated, Cap);
        await Task.Delay(50);
        Assert.Equal(2, Volatile.Read(ref counters.Forced));
    }
}
