using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Kubesharp.Api.Certificates.V1;
using Kubesharp.ApiMachinery.Certificates;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Microsoft.Extensions.Logging;

namespace Kubesharp.NodeAgents;

/// <summary>
/// TLS bootstrapping of a joining node, as the kubelet's: with a bootstrap token it files a CertificateSigningRequest for
/// system:node:NAME in system:nodes (signer kube-apiserver-client-kubelet), waits for the certificate and keeps it with
/// its key in DATA/pki/kubelet-client-current.pem. On later starts the stored certificate is used while valid; past 80%
/// of its lifetime the node asks for a new one under its own identity (approved as selfnodeclient).
/// </summary>
internal static partial class NodeClientBootstrap
{
    public const string CertificateFileName = "kubelet-client-current.pem";

    /// <summary>How long to wait for a request to be approved and signed before giving up (upstream's kubelet waits 15 minutes too).</summary>
    public static readonly TimeSpan DefaultWaitTimeout = TimeSpan.FromMinutes(15);

    private static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(1);

    public static string CertificatePath(string dataDir) => Path.Combine(dataDir, "pki", CertificateFileName);

    /// <summary>The node's client certificate and key (PEM): the stored one while it serves, otherwise a newly issued one.</summary>
    public static async Task<(string CertificatePem, string KeyPem)> ObtainAsync(
        KubernetesClientOptions bootstrap, string nodeName, string dataDir, TimeProvider time, ILogger logger, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(bootstrap);
        var path = CertificatePath(dataDir);
        var stored = Load(path, bootstrap.CertificateAuthorityPem, nodeName, time.GetUtcNow());
        if (stored is { Renew: false } current)
        {
            LogReused(logger, path);
            return (current.CertificatePem, current.KeyPem);
        }

        if (stored is { } expiring)
        {
            // Renewal under the node's own identity; the old certificate still serves if that fails.
            try
            {
                using var self = new KubernetesClient(bootstrap with { BearerToken = null, ClientCertificatePem = expiring.CertificatePem, ClientKeyPem = expiring.KeyPem });
                var renewed = await RequestAsync(self, nodeName, time, logger, waitTimeout, cancellationToken).ConfigureAwait(false);
                Save(path, renewed);
                return renewed;
            }
            catch (Exception e) when (e is StatusException or HttpRequestException or TimeoutException or CertificateRequestRefusedException)
            {
                LogRenewalFailed(logger, e.Message);
                return (expiring.CertificatePem, expiring.KeyPem);
            }
        }

        using var client = new KubernetesClient(bootstrap);
        var issued = await RequestAsync(client, nodeName, time, logger, waitTimeout, cancellationToken).ConfigureAwait(false);
        Save(path, issued);
        return issued;
    }

    /// <summary>Files a kubelet client request and waits until it is issued; throws when it is denied, fails or times out.</summary>
    public static async Task<(string CertificatePem, string KeyPem)> RequestAsync(KubernetesClient client, string nodeName, TimeProvider time, ILogger logger, TimeSpan waitTimeout, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(client);
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddOrganizationName(CertificateSigners.NodesGroup);
        subject.AddCommonName(CertificateSigners.NodeUserPrefix + nodeName);
        var pem = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256).CreateSigningRequestPem();
        var requests = client.Resource<CertificateSigningRequest>();
        var created = await requests.CreateAsync(new CertificateSigningRequest
        {
            ApiVersion = CertificateSigningRequest.KubeApiVersion,
            Kind = CertificateSigningRequest.KubeKind,
            Metadata = new ObjectMeta { GenerateName = "node-csr-" },
            Spec = new CertificateSigningRequestSpec
            {
                Request = Encoding.UTF8.GetBytes(pem),
                SignerName = CertificateSigners.KubeApiServerClientKubelet,
                Usages = [CertificateSigners.DigitalSignature, CertificateSigners.ClientAuth],
            },
        }, cancellationToken: cancellationToken).ConfigureAwait(false);
        var name = created.Metadata!.Name!;
        LogRequested(logger, name, nodeName);

        var deadline = time.GetUtcNow() + waitTimeout;
        while (true)
        {
            var csr = await requests.GetAsync(null, name, cancellationToken).ConfigureAwait(false);
            if (csr.Status?.Conditions?.FirstOrDefault(c => c.Status == "True" && c.Type is CertificateSigners.Denied or CertificateSigners.Failed) is { } refusal)
            {
                throw new CertificateRequestRefusedException($"certificate signing request {name} was {refusal.Type!.ToLowerInvariant()}: {refusal.Reason} {refusal.Message}".TrimEnd());
            }

            if (csr.Status?.Certificate is { Length: > 0 } certificate)
            {
                LogIssued(logger, name);
                return (Encoding.UTF8.GetString(certificate), key.ExportPkcs8PrivateKeyPem());
            }

            if (time.GetUtcNow() >= deadline)
            {
                throw new TimeoutException($"certificate signing request {name} was not issued within {waitTimeout.TotalSeconds:0} s (approve it with `kubectl certificate approve {name}`)");
            }

            await Task.Delay(PollInterval, time, cancellationToken).ConfigureAwait(false);
        }
    }

    private static (string CertificatePem, string KeyPem, bool Renew)? Load(string path, string? caPem, string nodeName, DateTimeOffset now)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            var text = File.ReadAllText(path);
            var certificatePem = PemBlocks(text, "CERTIFICATE");
            var keyPem = PemBlocks(text, "PRIVATE KEY");
            using var certificate = X509Certificate2.CreateFromPem(certificatePem, keyPem);
            var notBefore = new DateTimeOffset(certificate.NotBefore.ToUniversalTime());
            var notAfter = new DateTimeOffset(certificate.NotAfter.ToUniversalTime());
            if (certificate.GetNameInfo(X509NameType.SimpleName, false) != CertificateSigners.NodeUserPrefix + nodeName || now >= notAfter || !IssuedBy(certificate, caPem))
            {
                return null;
            }

            return (certificatePem, keyPem, now >= notBefore + (notAfter - notBefore) * 0.8);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException or IOException)
        {
            return null;
        }
    }

    private static bool IssuedBy(X509Certificate2 certificate, string? caPem)
    {
        if (caPem is null)
        {
            return true;
        }

        using var ca = X509Certificate2.CreateFromPem(caPem);
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.Add(ca);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        return chain.Build(certificate);
    }

    private static string PemBlocks(string text, string label)
    {
        var found = new StringBuilder();
        var rest = text.AsMemory();
        while (PemEncoding.TryFind(rest.Span, out var fields))
        {
            if (rest.Span[fields.Label].SequenceEqual(label))
            {
                found.Append(rest.Span[fields.Location]).Append('\n');
            }

            rest = rest[fields.Location.End..];
        }

        return found.Length > 0 ? found.ToString() : throw new ArgumentException($"no {label} block");
    }

    private static void Save(string path, (string CertificatePem, string KeyPem) pair)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written beside and renamed over, so a crash never leaves half a file; readable by the owner only.
        var temporary = path + ".tmp";
        File.WriteAllText(temporary, string.Empty);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.WriteAllText(temporary, pair.CertificatePem.TrimEnd() + "\n" + pair.KeyPem.TrimEnd() + "\n");
        File.Move(temporary, path, overwrite: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Using the node client certificate in {Path}")]
    private static partial void LogReused(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Requested a client certificate for node {Node} (CertificateSigningRequest {Name})")]
    private static partial void LogRequested(ILogger logger, string name, string node);

    [LoggerMessage(Level = LogLevel.Information, Message = "CertificateSigningRequest {Name} issued")]
    private static partial void LogIssued(ILogger logger, string name);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Renewing the node client certificate failed, using the current one: {Reason}")]
    private static partial void LogRenewalFailed(ILogger logger, string reason);
}
