using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Informers;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Expectations;

namespace Kubesharp.ControllerManager.Ownership;

/// <summary>
/// Pod events for a workload controller, as upstream's addPod/updatePod/deletePod: a pod whose controller reference
/// names the controller's kind wakes that owner (its previous owner too when the reference changed) and counts against
/// the owner's expectations; a pod without one wakes the owners that might adopt it.
/// </summary>
/// <param name="ownerKind">The kind whose controller references route to the owner.</param>
/// <param name="enqueueAdopters">Enqueues the owners that select an orphan (not called for a pod being deleted).</param>
internal sealed class OwnedPodEventHandler(string ownerKind, WorkQueue<string> queue, ControllerExpectations expectations, Action<Pod> enqueueAdopters)
    : IResourceEventHandler<Pod>
{
    /// <summary>The owner's key when the controller reference names <paramref name="kind"/>, else null.</summary>
    public static string? Owner(ObjectMeta? meta, string kind)
    {
        var reference = ControllerRef.Of(meta);
        return reference?.Kind == kind && reference.Name is { } name ? ObjectKey.Of(meta?.Namespace, name) : null;
    }

    public void OnAdd(Pod obj)
    {
        if (Owner(obj.Metadata, ownerKind) is { } owner)
        {
            expectations.CreationObserved(owner);
            queue.Add(owner);
        }
        else
        {
            EnqueueAdopters(obj);
        }
    }

    public void OnUpdate(Pod oldObj, Pod newObj)
    {
        var owner = Owner(newObj.Metadata, ownerKind);
        if (Owner(oldObj.Metadata, ownerKind) is { } previous && previous != owner)
        {
            queue.Add(previous);
        }

        if (owner is not null)
        {
            if (oldObj.Metadata?.DeletionTimestamp is null && newObj.Metadata?.DeletionTimestamp is not null)
            {
                expectations.DeletionObserved(owner, ObjectKey.Of(newObj));
            }

            queue.Add(owner);
        }
        else
        {
            EnqueueAdopters(newObj);
        }
    }

    public void OnDelete(Pod obj)
    {
        if (Owner(obj.Metadata, ownerKind) is { } owner)
        {
            expectations.DeletionObserved(owner, ObjectKey.Of(obj));
            queue.Add(owner);
        }
    }

    private void EnqueueAdopters(Pod pod)
    {
        if (pod.Metadata?.DeletionTimestamp is null)
        {
            enqueueAdopters(pod);
        }
    }
}
