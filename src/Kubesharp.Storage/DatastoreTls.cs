namespace Kubesharp.Storage;

/// <summary>PEM files for TLS to a remote datastore (<c>--datastore-cafile</c>, <c>--datastore-certfile</c>, <c>--datastore-keyfile</c>).</summary>
public sealed record DatastoreTls(string? CaFile, string? CertFile, string? KeyFile)
{
    public bool IsEmpty => CaFile is null && CertFile is null && KeyFile is null;
}
