namespace Kubesharp.Storage.Sqlite;

/// <summary>One row of the <c>kv</c> log.</summary>
internal readonly record struct StoredRow(long Revision, long CreateRevision, bool Deleted, byte[] Value)
{
    public KeyValue ToKeyValue(string key) => new(key, Value, CreateRevision, Revision);
}
