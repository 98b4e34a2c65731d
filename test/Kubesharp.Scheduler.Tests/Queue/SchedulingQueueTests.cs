using Kubesharp.Api.Core.V1;
using Kubesharp.Scheduler.Framework;
using Kubesharp.Scheduler.Queue;

namespace Kubesharp.Scheduler.Tests.Queue;

public sealed class SchedulingQueueTests : IDisposable
{
    private readonly ManualTimeProvider time = new();
    private readonly SchedulingQueue queue;

    public SchedulingQueueTests() => queue = new SchedulingQueue(time);

    public void Dispose() => queue.Dispose();

    private static PodInfo Info(string name, int priority = 0) => new(Make.Pod(name, priority: priority));

    /// <summary>Pops the pod and reports the attempt failed, as the scheduler does for an unschedulable pod.</summary>
    private QueuedPod FailOnce()
    {
        var popped = queue.TryPop();
        Assert.NotNull(popped);
        queue.AddUnschedulable(popped);
        return popped;
    }

    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 4)]
    [InlineData(4, 8)]
    [InlineData(5, 10)]
    [InlineData(50, 10)]
    public void BackoffFor_Attempts_DoublesFromOneSecondUpToTen(int attempts, int seconds) =>
        Assert.Equal(TimeSpan.FromSeconds(seconds), SchedulingQueue.BackoffFor(attempts));

    [Fact]
    public void TryPop_DifferentPriorities_HighestFirstThenOldest()
    {
        queue.Add(Info("low-1"));
        queue.Add(Info("high", priority: 100));
        queue.Add(Info("low-2"));

        Assert.Equal(["high", "low-1", "low-2"], [queue.TryPop()!.Pod.Name, queue.TryPop()!.Pod.Name, queue.TryPop()!.Pod.Name]);
        Assert.Null(queue.TryPop());
    }

    [Fact]
    public void MoveAllToActiveOrBackoff_EventBeforeBackoffExpires_PodWaitsInBackoff()
    {
        queue.Add(Info("p"));
        FailOnce();
        Assert.Equal(1, queue.UnschedulableCount);

        queue.MoveAllToActiveOrBackoff();

        Assert.Equal(1, queue.BackoffCount);
        Assert.Null(queue.TryPop());
        time.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Null(queue.TryPop());
        time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal("p", queue.TryPop()?.Pod.Name);
    }

    [Fact]
    public void AddUnschedulable_ChurningClusterForTwoSeconds_RetriedOnlyAsBackoffAllows()
    {
        // A Deployment churning beside an impossible pod: pod deletions and node changes every 10 ms, and the
        // scheduler's own status patch coming back as an update after every failed attempt.
        var pod = Info("impossible");
        queue.Add(pod);
        var attempts = 0;
        for (var step = 0; step < 200; step++)
        {
            while (queue.TryPop() is { } popped)
            {
                attempts++;
                queue.AddUnschedulable(popped);
                queue.Add(pod, relevantUpdate: false);
            }

            queue.MoveAllToActiveOrBackoff();
            time.Advance(TimeSpan.FromMilliseconds(10));
        }

        // Attempts at 0 s and 1 s; the next is due at 3 s (1 s, then 2 s of backoff).
        Assert.Equal(2, attempts);
    }

    [Fact]
    public void AddUnschedulable_EventsForAMinute_BackoffDoublesToTenSeconds()
    {
        queue.Add(Info("p"));
        var attemptTimes = new List<double>();
        var start = time.GetUtcNow();
        for (var step = 0; step < 6000; step++)
        {
            while (queue.TryPop() is { } popped)
            {
                attemptTimes.Add((time.GetUtcNow() - start).TotalSeconds);
                queue.AddUnschedulable(popped);
            }

            queue.MoveAllToActiveOrBackoff();
            time.Advance(TimeSpan.FromMilliseconds(10));
        }

        Assert.Equal([0, 1, 3, 7, 15, 25, 35, 45, 55], attemptTimes.Select(t => Math.Round(t, 2)));
    }

    [Fact]
    public void AddUnschedulable_NoClusterEvent_ParkedUntilFiveMinuteFlush()
    {
        queue.Add(Info("p"));
        FailOnce();

        time.Advance(TimeSpan.FromMinutes(5) - TimeSpan.FromSeconds(1));
        Assert.Null(queue.TryPop());
        Assert.Equal(1, queue.UnschedulableCount);

        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("p", queue.TryPop()?.Pod.Name);
    }

    [Fact]
    public void AddUnschedulable_EventDuringAttempt_GoesToBackoffNotUnschedulable()
    {
        queue.Add(Info("p"));
        var popped = queue.TryPop()!;
        queue.MoveAllToActiveOrBackoff();

        queue.AddUnschedulable(popped);

        Assert.Equal(0, queue.UnschedulableCount);
        Assert.Equal(1, queue.BackoffCount);
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, queue.TryPop()?.Attempts);
    }

    [Fact]
    public void Add_StatusOnlyUpdateOfParkedPod_StaysParked()
    {
        var pod = Info("p");
        queue.Add(pod);
        FailOnce();

        queue.Add(pod, relevantUpdate: false);
        time.Advance(TimeSpan.FromSeconds(30));

        Assert.Null(queue.TryPop());
        Assert.Equal(1, queue.UnschedulableCount);
    }

    [Fact]
    public void Add_RelevantUpdateOfParkedPod_RetriedAfterBackoffWithNewSpec()
    {
        queue.Add(Info("p"));
        FailOnce();
        var changed = Make.Pod("p");
        changed.Spec!.NodeSelector = new() { ["zone"] = "a" };

        queue.Add(new PodInfo(changed));

        Assert.Null(queue.TryPop());
        time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal("a", queue.TryPop()?.Pod.Pod.Spec?.NodeSelector?["zone"]);
    }

    [Fact]
    public void Delete_PodInBackoff_NeverPopped()
    {
        queue.Add(Info("p"));
        FailOnce();
        queue.MoveAllToActiveOrBackoff();

        queue.Delete("default/p");
        time.Advance(TimeSpan.FromSeconds(20));

        Assert.Null(queue.TryPop());
        Assert.Equal(0, queue.BackoffCount + queue.UnschedulableCount + queue.ActiveCount);
    }

    [Fact]
    public void MoveAllToActiveOrBackoff_Predicate_MovesOnlyAcceptedPods()
    {
        queue.Add(Info("a"));
        queue.Add(Info("b"));
        FailOnce();
        FailOnce();
        time.Advance(TimeSpan.FromSeconds(2));

        queue.MoveAllToActiveOrBackoff(p => p.Name == "b");

        Assert.Equal("b", queue.TryPop()?.Pod.Name);
        Assert.Null(queue.TryPop());
        Assert.Equal(1, queue.UnschedulableCount);
    }

    [Fact]
    public async Task PopAsync_PodInBackoff_CompletesWhenBackoffExpires()
    {
        queue.Add(Info("p"));
        FailOnce();
        queue.MoveAllToActiveOrBackoff();
        var pop = queue.PopAsync(CancellationToken.None);
        Assert.False(pop.IsCompleted);

        time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal("p", (await pop.WaitAsync(TimeSpan.FromSeconds(30)))?.Pod.Name);
    }
}
