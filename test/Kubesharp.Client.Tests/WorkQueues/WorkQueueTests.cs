using Kubesharp.Client.WorkQueues;

namespace Kubesharp.Client.Tests.WorkQueues;

public sealed class WorkQueueTests
{
    [Fact]
    public async Task Add_SameKeyTwiceBeforeGet_ProcessedOnce()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("default/a");
        queue.Add("default/a");
        queue.Add("default/b");

        Assert.Equal(2, queue.Length);
        var (ok, first) = await queue.GetAsync(CancellationToken.None);
        Assert.True(ok);
        Assert.Equal("default/a", first);
    }

    [Fact]
    public async Task Add_WhileProcessing_RequeuedOnlyAfterDone()
    {
        using var queue = new WorkQueue<string>();
        queue.Add("k");
        var (_, item) = await queue.GetAsync(CancellationToken.None);

        queue.Add("k");
        Assert.Equal(0, queue.Length);

        queue.Done(item);
        Assert.Equal(1, queue.Length);
    }

    [Fact]
    public async Task GetAsync_WaitingTaker_ReceivesLaterAdd()
    {
        using var queue = new WorkQueue<string>();
        var taking = queue.GetAsync(CancellationToken.None);
        Assert.False(taking.IsCompleted);

        queue.Add("x");

        var (ok, item) = await taking;
        Assert.True(ok);
        Assert.Equal("x", item);
    }

    [Fact]
    public async Task ShutDown_WaitingTaker_ReturnsNotOk()
    {
        using var queue = new WorkQueue<string>();
        var taking = queue.GetAsync(CancellationToken.None);
        queue.ShutDown();

        var (ok, _) = await taking;
        Assert.False(ok);
    }

    [Fact]
    public void AddAfter_BeforeDelay_NotReady()
    {
        var time = new ManualTimeProvider();
        using var queue = new WorkQueue<string>(timeProvider: time);
        queue.AddAfter("k", TimeSpan.FromSeconds(5));

        time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(0, queue.Length);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(1, queue.Length);
    }

    [Fact]
    public void AddAfter_EarlierDelayForSameItem_Wins()
    {
        var time = new ManualTimeProvider();
        using var queue = new WorkQueue<string>(timeProvider: time);
        queue.AddAfter("k", TimeSpan.FromSeconds(10));
        queue.AddAfter("k", TimeSpan.FromSeconds(2));

        time.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(1, queue.Length);
    }

    [Fact]
    public void AddRateLimited_RepeatedFailures_BackOffExponentially()
    {
        var time = new ManualTimeProvider();
        var limiter = new ItemExponentialFailureRateLimiter<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000));
        using var queue = new WorkQueue<string>(limiter, time);

        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.When("k"));
        Assert.Equal(TimeSpan.FromMilliseconds(10), limiter.When("k"));
        Assert.Equal(TimeSpan.FromMilliseconds(20), limiter.When("k"));
        Assert.Equal(3, queue.NumRequeues("k"));

        queue.Forget("k");
        Assert.Equal(0, queue.NumRequeues("k"));
        Assert.Equal(TimeSpan.FromMilliseconds(5), limiter.When("k"));
    }

    [Fact]
    public void AddRateLimited_FixedIntervalAfterManyFailures_ReadyAfterOneInterval()
    {
        var time = new ManualTimeProvider();
        var limiter = new FixedIntervalRateLimiter<string>(TimeSpan.FromSeconds(15));
        using var queue = new WorkQueue<string>(limiter, time);
        for (var i = 0; i < 20; i++)
        {
            Assert.Equal(TimeSpan.FromSeconds(15), limiter.When("k"));
        }

        queue.AddRateLimited("k");
        time.Advance(TimeSpan.FromSeconds(14));
        Assert.Equal(0, queue.Length);
        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(1, queue.Length);
        Assert.Equal(21, queue.NumRequeues("k"));
        queue.Forget("k");
        Assert.Equal(0, queue.NumRequeues("k"));
    }

    [Fact]
    public void ItemExponentialFailureRateLimiter_ManyFailures_CappedAtMax()
    {
        var limiter = new ItemExponentialFailureRateLimiter<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000));
        var last = TimeSpan.Zero;
        for (var i = 0; i < 100; i++)
        {
            last = limiter.When("k");
        }

        Assert.Equal(TimeSpan.FromSeconds(1000), last);
    }

    [Fact]
    public void BucketRateLimiter_BurstExhausted_DelaysByRefillRate()
    {
        var time = new ManualTimeProvider();
        var bucket = new BucketRateLimiter<int>(10, 100, time);
        for (var i = 0; i < 100; i++)
        {
            Assert.Equal(TimeSpan.Zero, bucket.When(i));
        }

        Assert.Equal(TimeSpan.FromMilliseconds(100), bucket.When(100));
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(TimeSpan.Zero, bucket.When(101));
    }
}
