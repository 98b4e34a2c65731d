namespace Kubesharp.Client.LeaderElection;

/// <summary>Leader election on a coordination.k8s.io Lease, with upstream's default timings.</summary>
public sealed record LeaderElectionOptions
{
    public required string LeaseName { get; init; }

    public string LeaseNamespace { get; init; } = "kube-system";

    /// <summary>This candidate's unique identity (host name plus a random suffix, typically).</summary>
    public required string Identity { get; init; }

    /// <summary>How long non-leaders wait after the last observed renewal before taking over.</summary>
    public TimeSpan LeaseDuration { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>How long the leader keeps retrying a failed renewal before giving up leadership.</summary>
    public TimeSpan RenewDeadline { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Interval between acquire or renew attempts.</summary>
    public TimeSpan RetryPeriod { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Give the lease up on cancellation so a successor need not wait the lease duration.</summary>
    public bool ReleaseOnCancel { get; init; } = true;

    /// <summary>Called with the holder's identity whenever a different holder is seen (this candidate included), as client-go's OnNewLeader.</summary>
    public Action<string>? OnNewLeader { get; init; }
}
