using Kubesharp.Api.Batch.V1;
using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.Jobs;

/// <summary>
/// The delay before a Job replaces failed pods: 10 s after the first failure since the last success, doubling
/// with each further failure, at most 6 minutes. Read from the pods themselves, so a restart loses nothing.
/// </summary>
internal static class JobBackoff
{
    public static readonly TimeSpan Base = TimeSpan.FromSeconds(10);

    public static readonly TimeSpan Max = TimeSpan.FromMinutes(6);

    public static TimeSpan Delay(int failures)
    {
        if (failures <= 0)
        {
            return TimeSpan.Zero;
        }

        // 10 s * 2^6 already passes the cap, so larger exponents never overflow.
        return failures > 7 ? Max : TimeSpan.FromTicks(Math.Min(Base.Ticks << (failures - 1), Max.Ticks));
    }

    /// <summary>How long creations must still wait; zero when they may go ahead.</summary>
    public static TimeSpan Remaining(Job job, IEnumerable<Pod> pods, DateTimeOffset now)
    {
        var list = pods.ToList();
        var successes = list.Where(p => p.Status?.Phase == "Succeeded").Select(JobPods.FinishTime).ToList();
        DateTimeOffset? lastSuccess = successes.Count > 0 ? successes.Max() : null;
        var failures = list
            .Where(p => p.Status?.Phase == "Failed" && PodFailurePolicyMatch.Find(job.Spec?.PodFailurePolicy, p)?.Action != PodFailurePolicyMatch.Ignore)
            .Select(JobPods.FinishTime)
            .Where(t => lastSuccess is null || t > lastSuccess)
            .ToList();
        if (failures.Count == 0)
        {
            return TimeSpan.Zero;
        }

        var remaining = failures.Max() + Delay(failures.Count) - now;
        return remaining > TimeSpan.Zero ? remaining : TimeSpan.Zero;
    }
}
