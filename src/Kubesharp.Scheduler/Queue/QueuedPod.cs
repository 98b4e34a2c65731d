using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler.Queue;

/// <summary>A pod taken from the queue for one scheduling attempt.</summary>
public sealed record QueuedPod(PodInfo Pod, int Attempts, long Cycle, DateTimeOffset FirstSeen);
