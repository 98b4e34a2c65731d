namespace Kubesharp.Storage;

/// <summary>
/// Where the cluster state lives, as given by <c>--datastore-endpoint</c>: <c>sqlite://PATH</c> (the
/// default, <c>DATA-DIR/db/state.db</c>), <c>etcd://HOST:PORT[,HOST:PORT…]</c> (TLS when certificate
/// files are given), <c>http://…</c> (etcd, cleartext) or <c>https://…</c> (etcd over TLS).
/// </summary>
public sealed record DatastoreEndpoint(string Scheme, string Address)
{
    /// <summary>For etcd: speak TLS to the members.</summary>
    public bool UseTls { get; init; }

    /// <summary>For etcd: the certificate authority and client certificate files, when given.</summary>
    public DatastoreTls? Tls { get; init; }

    public const string SqliteScheme = "sqlite";
    public const string EtcdScheme = "etcd";

    /// <summary>The SQLite file used when no endpoint is given.</summary>
    public static string DefaultSqlitePath(string dataDirectory) => System.IO.Path.Combine(dataDirectory, "db", "state.db");

    /// <summary>Parses an endpoint URL; null or empty selects the embedded SQLite file in <paramref name="dataDirectory"/>.</summary>
    /// <exception cref="FormatException">The URL has no known scheme or no address.</exception>
    public static DatastoreEndpoint Parse(string? url, string dataDirectory) => Parse(url, dataDirectory, tls: null);

    /// <summary>Parses an endpoint URL and attaches the TLS files, which only etcd endpoints accept.</summary>
    /// <exception cref="FormatException">The URL is invalid, or TLS files were given for an endpoint that cannot use them.</exception>
    public static DatastoreEndpoint Parse(string? url, string dataDirectory, DatastoreTls? tls)
    {
        var endpoint = ParseUrl(url, dataDirectory);
        if (tls is null || tls.IsEmpty)
        {
            return endpoint;
        }

        if (endpoint.Scheme != EtcdScheme)
        {
            throw new FormatException($"--datastore-cafile, --datastore-certfile and --datastore-keyfile apply to etcd endpoints, not to {endpoint}");
        }

        if (url!.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            throw new FormatException($"datastore endpoint {url} is cleartext but TLS files were given; use https:// or etcd://");
        }

        return endpoint with { UseTls = true, Tls = tls };
    }

    private static DatastoreEndpoint ParseUrl(string? url, string dataDirectory)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return new DatastoreEndpoint(SqliteScheme, DefaultSqlitePath(dataDirectory));
        }

        var separator = url.IndexOf("://", StringComparison.Ordinal);
        if (separator <= 0)
        {
            throw new FormatException($"datastore endpoint {url} has no scheme; use sqlite://PATH or etcd://HOST:PORT[,HOST:PORT...]");
        }

        var scheme = url[..separator].ToLowerInvariant();
        var address = url[(separator + 3)..];
        switch (scheme)
        {
            case SqliteScheme:
                return new DatastoreEndpoint(scheme, address.Length == 0 ? DefaultSqlitePath(dataDirectory) : address);
            case EtcdScheme:
            case "http":
            case "https":
                // k3s style lists repeat the scheme per member: https://a:2379,https://b:2379.
                var hosts = address.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                    .Select(h => h.StartsWith(scheme + "://", StringComparison.OrdinalIgnoreCase) ? h[(scheme.Length + 3)..] : h)
                    .ToArray();
                if (hosts.Length == 0 || hosts.Any(h => !h.Contains(':', StringComparison.Ordinal) || h.Contains('/', StringComparison.Ordinal)))
                {
                    throw new FormatException($"datastore endpoint {url} needs HOST:PORT[,HOST:PORT...]");
                }

                return new DatastoreEndpoint(EtcdScheme, string.Join(',', hosts)) { UseTls = scheme == "https" };
            default:
                throw new FormatException($"datastore endpoint scheme {scheme} is not supported; use sqlite://, etcd://, http:// or https://");
        }
    }

    /// <summary>For SQLite, the database file; for etcd, the member addresses.</summary>
    public IReadOnlyList<string> Hosts => Address.Split(',');

    public override string ToString() => UseTls && Scheme == EtcdScheme ? $"https://{Address}" : $"{Scheme}://{Address}";
}
