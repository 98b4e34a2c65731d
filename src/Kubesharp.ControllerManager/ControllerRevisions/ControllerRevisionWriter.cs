using System.Globalization;
using Kubesharp.Api.Apps.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.ControllerManager.Objects;

namespace Kubesharp.ControllerManager.ControllerRevisions;

/// <summary>Writes ControllerRevisions: creation with hash-collision handling, renumbering and pruning.</summary>
internal sealed class ControllerRevisionWriter(KubernetesClient client)
{
    /// <summary>Bounds the collision loop; each round changes the hash, so more than a few means something is wrong.</summary>
    private const int MaxCollisions = 16;

    private readonly ResourceClient<ControllerRevision> revisions = client.Resource<ControllerRevision>();

    /// <summary>
    /// Creates <paramref name="revision"/> under the name <paramref name="nameFor"/> gives for the collision count.
    /// A revision of that name with the same data is taken as is; one with other data is a hash collision, which
    /// raises the collision count and tries the next name.
    /// </summary>
    public async Task<(ControllerRevision Revision, int? CollisionCount)> CreateAsync(
        ControllerRevision revision,
        Func<int?, (string Name, string Hash)> nameFor,
        int? collisionCount,
        CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            var candidate = ObjectCopy.Clone(revision);
            var (name, hash) = nameFor(collisionCount);
            candidate.Metadata!.Name = name;
            candidate.Metadata.Labels ??= [];
            candidate.Metadata.Labels[ControllerRevisionHistory.HashLabel] = hash;
            try
            {
                return (await revisions.CreateAsync(candidate, cancellationToken: cancellationToken).ConfigureAwait(false), collisionCount);
            }
            catch (StatusException e) when (e.IsAlreadyExists() && attempt < MaxCollisions)
            {
                var existing = await revisions.GetAsync(candidate.Metadata.Namespace, name, cancellationToken).ConfigureAwait(false);
                if (ControllerRevisionHistory.Matches(existing, candidate.Data!))
                {
                    return (existing, collisionCount);
                }

                collisionCount = (collisionCount ?? 0) + 1;
            }
        }
    }

    /// <summary>Gives an existing revision a new number (a rollback to an older template makes it the newest).</summary>
    public Task<ControllerRevision> RenumberAsync(ControllerRevision revision, long number, CancellationToken cancellationToken) =>
        revisions.PatchAsync(
            revision.Metadata!.Namespace,
            revision.Metadata.Name!,
            PatchType.Merge,
            "{\"revision\":" + number.ToString(CultureInfo.InvariantCulture) + "}",
            cancellationToken: cancellationToken);

    public async Task DeleteAsync(ControllerRevision revision, CancellationToken cancellationToken)
    {
        try
        {
            await revisions.DeleteAsync(revision.Metadata!.Namespace, revision.Metadata.Name!, new DeleteOptions { Preconditions = new Preconditions { Uid = revision.Metadata.Uid } }, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
        {
        }
    }
}
