namespace Kubesharp.ApiMachinery.Certificates;

/// <summary>
/// The facts of certificates.k8s.io that the API server, the controllers and the node agent share: the built-in signer
/// names, the key usages a request may name, the condition types and the node client certificate's subject.
/// </summary>
public static class CertificateSigners
{
    /// <summary>Client certificates the API server honours, for any subject; approved by hand.</summary>
    public const string KubeApiServerClient = "kubernetes.io/kube-apiserver-client";

    /// <summary>Kubelets' client certificates (system:node:NAME in system:nodes); auto-approved for bootstrappers and the node itself.</summary>
    public const string KubeApiServerClientKubelet = "kubernetes.io/kube-apiserver-client-kubelet";

    /// <summary>Kubelets' serving certificates.</summary>
    public const string KubeletServing = "kubernetes.io/kubelet-serving";

    public const string Approved = "Approved";
    public const string Denied = "Denied";
    public const string Failed = "Failed";

    public const string NodesGroup = "system:nodes";
    public const string NodeUserPrefix = "system:node:";

    public const string DigitalSignature = "digital signature";
    public const string KeyEncipherment = "key encipherment";
    public const string ClientAuth = "client auth";
    public const string ServerAuth = "server auth";

    /// <summary>The shortest lifetime <c>spec.expirationSeconds</c> may ask for.</summary>
    public const int MinExpirationSeconds = 600;

    /// <summary>Every key usage <c>spec.usages</c> may name, in upstream's order.</summary>
    public static readonly IReadOnlyList<string> KnownUsages =
    [
        "signing", DigitalSignature, "content commitment", KeyEncipherment, "key agreement", "data encipherment",
        "cert sign", "crl sign", "encipher only", "decipher only", "any", ServerAuth, ClientAuth, "code signing",
        "email protection", "s/mime", "ipsec end system", "ipsec tunnel", "ipsec user", "timestamping", "ocsp signing",
        "microsoft sgc", "netscape sgc",
    ];
}
