namespace Kubesharp.ApiServer.Caching;

internal enum CacheEventType
{
    Added,
    Modified,
    Deleted,
    Bookmark,
}

/// <summary>A change of one object; for deletes <see cref="Object"/> is the last state at the delete's revision.</summary>
internal sealed record CacheEvent(CacheEventType Type, long Revision, CachedObject? Object, CachedObject? Previous);
