namespace Kubesharp.Client;

/// <summary>One event of a watch stream, typed.</summary>
public sealed record WatchEvent<T>(WatchEventType Type, T Object)
{
    /// <summary>
    /// Set when the event's object does not fit the type; <see cref="Object"/> then carries only its name,
    /// namespace and resourceVersion. Only informers see such events.
    /// </summary>
    internal UndecodableObject? Undecodable { get; init; }

    /// <summary>Set when <see cref="Object"/> is an instance another informer of the process holds, not a decoded copy.</summary>
    internal bool Held { get; init; }
}
