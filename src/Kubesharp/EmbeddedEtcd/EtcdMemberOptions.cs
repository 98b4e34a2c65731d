using System.Net;

namespace Kubesharp.EmbeddedEtcd;

/// <summary>How the server runs its own etcd member (<c>kubesharp server --cluster-init</c>).</summary>
internal sealed record EtcdMemberOptions
{
    public const string DefaultEtcdPath = "/usr/bin/etcd";

    /// <summary>The server's data directory; the member lives in DATA/server/etcd.</summary>
    public required string DataDirectory { get; init; }

    /// <summary>The address other members reach this one at (peer traffic, and clients beside loopback).</summary>
    public required IPAddress AdvertiseAddress { get; init; }

    public int ClientPort { get; init; } = EtcdMemberLayout.DefaultClientPort;

    public int PeerPort { get; init; } = EtcdMemberLayout.DefaultPeerPort;

    public string EtcdPath { get; init; } = DefaultEtcdPath;

    /// <summary>
    /// For a member joining a cluster: every member as NAME=PEER-URL (this one included) and state "existing";
    /// null starts a new one-member cluster (or reopens the data directory's).
    /// </summary>
    public string? InitialCluster { get; init; }

    /// <summary>
    /// <c>--cluster-reset</c>: the member's first start drops every other member from the data it holds (etcd's
    /// <c>--force-new-cluster</c>), recovering a one-member cluster after quorum is lost.
    /// </summary>
    public bool ForceNewCluster { get; init; }

    public TimeSpan StartTimeout { get; init; } = TimeSpan.FromSeconds(60);

    public TimeSpan StopTimeout { get; init; } = TimeSpan.FromSeconds(15);
}
