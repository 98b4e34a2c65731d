using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.ControllerManager.Expectations;

namespace Kubesharp.ControllerManager.Pods;

/// <summary>Deletes an owner's pods in parallel as upstream's controllers do: expectations raised first, each
/// deletion preconditioned on the pod's uid, an event per pod, and a pod already gone or replaced counted as done.</summary>
internal static class ControlledPodDeletion
{
    /// <summary>The first failure's message, or null when every pod is gone or going.</summary>
    public static async Task<string?> DeleteAsync<TOwner>(
        ControllerContext context, ControllerExpectations expectations, string key, TOwner owner, IReadOnlyCollection<Pod> pods, CancellationToken cancellationToken)
        where TOwner : IKubernetesObject, IKubernetesKind
    {
        expectations.ExpectDeletions(key, pods.Select(p => ObjectKey.Of(p)));
        var client = context.Client.Resource<Pod>();
        var errors = await Task.WhenAll(pods.Select(async pod =>
        {
            try
            {
                await client.DeleteAsync(pod.Metadata!.Namespace, pod.Metadata.Name!, new DeleteOptions { Preconditions = new Preconditions { Uid = pod.Metadata.Uid } }, cancellationToken).ConfigureAwait(false);
                context.Events.Record(owner, "Normal", "SuccessfulDelete", $"Deleted pod: {pod.Metadata.Name}");
                return null;
            }
            catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
            {
                expectations.DeletionObserved(key, ObjectKey.Of(pod));
                return null;
            }
            catch (StatusException e)
            {
                expectations.DeletionObserved(key, ObjectKey.Of(pod));
                context.Events.Record(owner, "Warning", "FailedDelete", $"Error deleting: {e.Message}");
                return e.Message;
            }
        })).ConfigureAwait(false);
        return errors.FirstOrDefault(e => e is not null);
    }
}
