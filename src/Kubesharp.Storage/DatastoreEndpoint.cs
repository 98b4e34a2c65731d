namespace Kubesharp.Storage;

/// <summary>
/// Where the cluster state lives, as given by <c>--datastore-endpoint</c>: <c>sqlite://PATH</c> (the
/// default, <c>DATA-DIR/db/state.db</c>) or <c>etcd://HOST:PORT[,HOST:PORT…]</c>.
/// </summary>
public sealed record DatastoreEndpoint(string Scheme, string Address)
{
    public const string SqliteScheme = "sqlite";
    public const string EtcdScheme = "etcd";

    /// <summary>The SQLite file used when no endpoint is given.</summary>
    public static string DefaultSqlitePath(string dataDirectory) => System.IO.Path.Combine(dataDirectory, "db", "state.db");

    /// <summary>Parses an endpoint URL; null or empty selects the embedded SQLite file in <paramref name="dataDirectory"/>.</summary>
    /// <exception cref="FormatException">The URL has no known scheme or no address.</exception>
    public static DatastoreEndpoint Parse(string? url, string dataDirectory)
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
                var hosts = address.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
                if (hosts.Length == 0 || hosts.Any(h => !h.Contains(':', StringComparison.Ordinal)))
                {
                    throw new FormatException($"datastore endpoint {url} needs HOST:PORT[,HOST:PORT...]");
                }

                return new DatastoreEndpoint(EtcdScheme, string.Join(',', hosts));
            default:
                throw new FormatException($"datastore endpoint scheme {scheme} is not supported; use sqlite:// or etcd://");
        }
    }

    /// <summary>For SQLite, the database file; for etcd, the member addresses.</summary>
    public IReadOnlyList<string> Hosts => Address.Split(',');

    public override string ToString() => $"{Scheme}://{Address}";
}
