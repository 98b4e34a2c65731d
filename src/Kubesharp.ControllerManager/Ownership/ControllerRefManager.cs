using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.ControllerManager.Objects;

namespace Kubesharp.ControllerManager.Ownership;

/// <summary>
/// Claims objects for a controller: adopts matching orphans and releases owned objects that stopped matching,
/// through guarded patches. Adoption is re-checked against the live owner first so a deleted or replaced owner
/// never adopts from a stale cache.
/// </summary>
internal static class ControllerRefManager
{
    public static async Task<List<T>> ClaimAsync<T>(
        ResourceClient<T> client,
        ObjectMeta owner,
        OwnerReference controllerRef,
        LabelSelector? selector,
        IEnumerable<T> candidates,
        Func<CancellationToken, Task<bool>> canAdopt,
        CancellationToken cancellationToken)
        where T : class, IKubernetesObject, IKubernetesKind, new()
    {
        var claimed = new List<T>();
        bool? adoptionAllowed = null;
        foreach (var candidate in candidates)
        {
            var meta = candidate.Metadata ?? new ObjectMeta();
            switch (ControllerRefClaim.Decide(owner, selector, meta))
            {
                case ClaimDecision.Keep:
                    claimed.Add(candidate);
                    break;
                case ClaimDecision.Adopt:
                    adoptionAllowed ??= await canAdopt(cancellationToken).ConfigureAwait(false);
                    if (adoptionAllowed != true)
                    {
                        break;
                    }

                    var adopted = await TryPatchAsync(client, meta, [.. meta.OwnerReferences ?? [], controllerRef], cancellationToken).ConfigureAwait(false);
                    if (adopted is not null)
                    {
                        claimed.Add(adopted);
                    }

                    break;
                case ClaimDecision.Release:
                    await TryPatchAsync(client, meta, (meta.OwnerReferences ?? []).Where(r => r.Uid != owner.Uid).ToList(), cancellationToken).ConfigureAwait(false);
                    break;
            }
        }

        return claimed;
    }

    private static async Task<T?> TryPatchAsync<T>(ResourceClient<T> client, ObjectMeta meta, List<OwnerReference> references, CancellationToken cancellationToken)
        where T : class, IKubernetesObject, IKubernetesKind, new()
    {
        try
        {
            return await client.PatchAsync(meta.Namespace, meta.Name!, PatchType.Json, MetadataPatch.OwnerReferences(meta, references), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound() || e.IsConflict() || e.IsInvalid() || e.Code == 422)
        {
            // Gone or changed meanwhile: the next reconcile sees the new state.
            return null;
        }
    }
}
