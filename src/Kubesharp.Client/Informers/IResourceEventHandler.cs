namespace Kubesharp.Client.Informers;

/// <summary>
/// Receives cache changes. Calls are serialised per informer and should be quick (enqueue a key).
/// A resync delivers OnUpdate with the same object as old and new.
/// </summary>
public interface IResourceEventHandler<in T>
{
    void OnAdd(T obj);

    void OnUpdate(T oldObj, T newObj);

    /// <summary>The last known state of the deleted object.</summary>
    void OnDelete(T obj);
}
