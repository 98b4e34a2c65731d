namespace Kubesharp.Client;

public enum WatchEventType
{
    Added,
    Modified,
    Deleted,

    /// <summary>Carries only a resourceVersion: the watch is current up to it.</summary>
    Bookmark,
}
