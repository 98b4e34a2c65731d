namespace Kubesharp.ApiServer.Caching;

/// <summary>A key whose stored value the server cannot read, why, and the revision that wrote that value.</summary>
internal sealed record CorruptObject(string Key, string Reason, long Revision);
