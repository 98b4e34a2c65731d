using System.Security.Cryptography.X509Certificates;

namespace Kubesharp.Ingress;

/// <summary>
/// Certificates loaded from TLS Secrets, kept per Secret and resource version so a rebuild of the routes does not
/// parse every key again; entries of Secrets no longer used are dropped after each rebuild.
/// </summary>
internal sealed class IngressCertificateCache : IDisposable
{
    private readonly Dictionary<string, (string Version, X509Certificate2? Certificate)> loaded = new(StringComparer.Ordinal);
    private readonly HashSet<string> used = new(StringComparer.Ordinal);

    /// <summary>The certificate of a TLS Secret (its tls.crt and tls.key), or null when it has none or it cannot be read.</summary>
    public X509Certificate2? Get(Kubesharp.Api.Core.V1.Secret secret) =>
        secret.Data is { } data && data.TryGetValue("tls.crt", out var crt) && data.TryGetValue("tls.key", out var key)
            ? Get(Kubesharp.Client.ObjectKey.Of(secret.Metadata?.Namespace, secret.Metadata?.Name ?? string.Empty), secret.Metadata?.ResourceVersion ?? string.Empty, crt, key)
            : null;

    /// <summary>The certificate of the Secret <paramref name="key"/>, or null when its PEM cannot be read.</summary>
    public X509Certificate2? Get(string key, string resourceVersion, byte[] certificatePem, byte[] keyPem)
    {
        used.Add(key);
        if (loaded.TryGetValue(key, out var entry) && entry.Version == resourceVersion)
        {
            return entry.Certificate;
        }

        X509Certificate2? certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPem(System.Text.Encoding.UTF8.GetString(certificatePem), System.Text.Encoding.UTF8.GetString(keyPem));
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            certificate = null;
        }
        catch (ArgumentException)
        {
            certificate = null;
        }

        // The old certificate may still be in a handshake of the previous routes: it is left to the finalizer.
        loaded[key] = (resourceVersion, certificate);
        return certificate;
    }

    /// <summary>Forgets the Secrets the last build did not use.</summary>
    public void Sweep()
    {
        foreach (var key in loaded.Keys.Where(k => !used.Contains(k)).ToList())
        {
            loaded.Remove(key);
        }

        used.Clear();
    }

    public void Dispose()
    {
        foreach (var (_, certificate) in loaded.Values)
        {
            certificate?.Dispose();
        }

        loaded.Clear();
    }
}
