namespace Kubesharp.ApiServer.Security;

/// <summary>
/// The users the built-in components act as, each authorized by its own bootstrap ClusterRole (none of them is in
/// system:masters): upstream's names for the scheduler, controller manager, proxy and kubelets, and the names k3s
/// gives its cluster DNS and local-path provisioner, and one for the nodes' CSI attacher.
/// </summary>
public static class ComponentIdentities
{
    public const string Scheduler = "system:kube-scheduler";
    public const string ControllerManager = "system:kube-controller-manager";
    public const string Proxy = "system:kube-proxy";
    public const string Dns = "system:coredns";
    public const string LocalPathProvisioner = "system:local-path-provisioner";

    /// <summary>The nodes' CSI attacher (the part of upstream's external-attacher sidecar the agent does).</summary>
    public const string CsiAttacher = "system:csi-attacher";
    public const string NodesGroup = "system:nodes";
    public const string NodeUserPrefix = "system:node:";

    /// <summary>The kubelet of <paramref name="nodeName"/>: what the node authorizer and NodeRestriction know it by.</summary>
    public static string NodeUser(string nodeName) => NodeUserPrefix + nodeName;

    /// <summary>The groups a component's user belongs to: a kubelet's is system:nodes, the others' none.</summary>
    public static IReadOnlyList<string> GroupsOf(string user) =>
        user.StartsWith(NodeUserPrefix, StringComparison.Ordinal) ? [NodesGroup] : [];

    /// <summary>A client certificate (PEM) for the component, issued by the cluster CA.</summary>
    public static (string CertificatePem, string KeyPem) Issue(ClusterCertificates certificates, string user, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(certificates);
        return certificates.IssueClientCertificate(user, GroupsOf(user), timeProvider);
    }
}
