using Kubesharp.ControllerManager.Expectations;

namespace Kubesharp.ControllerManager.Tests.Expectations;

public sealed class ControllerExpectationsTests
{
    private sealed class StoppedClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Fact]
    public void Satisfied_CreationsOutstanding_FalseUntilAllObserved()
    {
        var expectations = new ControllerExpectations(new StoppedClock(Objects.Epoch));
        expectations.ExpectCreations("ns/rs", 2);

        Assert.False(expectations.Satisfied("ns/rs"));
        expectations.CreationObserved("ns/rs");
        Assert.False(expectations.Satisfied("ns/rs"));
        expectations.CreationObserved("ns/rs");
        Assert.True(expectations.Satisfied("ns/rs"));
    }

    [Fact]
    public void Satisfied_DeletionOfOtherPod_DoesNotCount()
    {
        var expectations = new ControllerExpectations(new StoppedClock(Objects.Epoch));
        expectations.ExpectDeletions("ns/rs", ["ns/a"]);

        expectations.DeletionObserved("ns/rs", "ns/b");
        Assert.False(expectations.Satisfied("ns/rs"));
        expectations.DeletionObserved("ns/rs", "ns/a");
        Assert.True(expectations.Satisfied("ns/rs"));
    }

    [Fact]
    public void Satisfied_ExpectationsOlderThanTimeout_True()
    {
        var clock = new StoppedClock(Objects.Epoch);
        var expectations = new ControllerExpectations(clock);
        expectations.ExpectCreations("ns/rs", 5);

        clock.Now += ControllerExpectations.Timeout + TimeSpan.FromSeconds(1);

        Assert.True(expectations.Satisfied("ns/rs"));
    }

    [Fact]
    public void LowerCreations_FailedCreates_Satisfied()
    {
        var expectations = new ControllerExpectations(new StoppedClock(Objects.Epoch));
        expectations.ExpectCreations("ns/rs", 3);

        expectations.LowerCreations("ns/rs", 3);

        Assert.True(expectations.Satisfied("ns/rs"));
    }
}
