namespace Kubesharp.Client;

/// <summary>One event of a watch stream, typed.</summary>
public sealed record WatchEvent<T>(WatchEventType Type, T Object);
