using System.Globalization;
using Kubesharp.Storage;

namespace Kubesharp.EmbeddedEtcd;

/// <summary>Where a server's own etcd member keeps its files: DATA/server/etcd (data, certificates, log, pid).</summary>
internal sealed class EtcdMemberLayout(string dataDirectory)
{
    public const int DefaultClientPort = 2379;
    public const int DefaultPeerPort = 2380;

    public string Root { get; } = Path.Combine(dataDirectory, "server", "etcd");

    /// <summary>etcd's own <c>--data-dir</c>.</summary>
    public string DataDir => Path.Combine(Root, "data");

    public string TlsDir => Path.Combine(Root, "tls");

    /// <summary>The cluster CA, which signs the members' and the API server's etcd certificates.</summary>
    public string CaFile => Path.Combine(dataDirectory, "server", "tls", "ca.crt");

    public string ServerCertFile => Path.Combine(TlsDir, "server.crt");

    public string ServerKeyFile => Path.Combine(TlsDir, "server.key");

    public string PeerCertFile => Path.Combine(TlsDir, "peer.crt");

    public string PeerKeyFile => Path.Combine(TlsDir, "peer.key");

    public string ClientCertFile => Path.Combine(TlsDir, "client.crt");

    public string ClientKeyFile => Path.Combine(TlsDir, "client.key");

    public string PidFile => Path.Combine(Root, "etcd.pid");

    public string LogFile => Path.Combine(Root, "etcd.log");

    /// <summary>The client URL of the running member, written at start so the datastore verbs find it.</summary>
    public string ClientUrlFile => Path.Combine(Root, "client-url");

    /// <summary>The peer URL the member advertises, kept so a restore gives the new member the same one.</summary>
    public string PeerUrlFile => Path.Combine(Root, "peer-url");

    private string NameFile => Path.Combine(Root, "name");

    /// <summary>The member's name: the host name plus a digest of the data directory, chosen once and kept.</summary>
    public string MemberName()
    {
        if (File.Exists(NameFile) && File.ReadAllText(NameFile).Trim() is { Length: > 0 } kept)
        {
            return kept;
        }

        var digest = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(dataDirectory)))[..8];
        var name = $"{Environment.MachineName.ToLowerInvariant()}-{digest}";
        Directory.CreateDirectory(Root);
        File.WriteAllText(NameFile, name + "\n");
        return name;
    }

    /// <summary>The advertised peer URL of the last run, or null before the first.</summary>
    public string? RecordedPeerUrl() => File.Exists(PeerUrlFile) && File.ReadAllText(PeerUrlFile).Trim() is { Length: > 0 } url ? url : null;

    /// <summary>The running member's client endpoint with the client certificate, or null when this data directory has none.</summary>
    public DatastoreEndpoint? ClientEndpoint()
    {
        if (!File.Exists(ClientUrlFile) || File.ReadAllText(ClientUrlFile).Trim() is not { Length: > 0 } url)
        {
            return null;
        }

        return DatastoreEndpoint.Parse(url, dataDirectory, new DatastoreTls(CaFile, ClientCertFile, ClientKeyFile));
    }

    public static string Url(string scheme, System.Net.IPAddress address, int port) =>
        string.Create(CultureInfo.InvariantCulture, $"{scheme}://{(address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? $"[{address}]" : address.ToString())}:{port}");
}
