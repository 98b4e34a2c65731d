using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Selection;

namespace Kubesharp.ControllerManager.Ownership;

/// <summary>
/// Adoption and orphaning by selector, as upstream's controller reference manager decides it: orphans that
/// match are adopted, owned objects that stop matching are released, objects of other controllers are left alone.
/// </summary>
internal static class ControllerRefClaim
{
    public static ClaimDecision Decide(ObjectMeta owner, LabelSelector? selector, ObjectMeta candidate)
    {
        var ownerDeleting = owner.DeletionTimestamp is not null;
        var matches = selector is not null && !LabelSelectorEvaluator.IsEmpty(selector) && LabelSelectorEvaluator.Matches(selector, candidate.Labels);
        var controllerRef = ControllerRef.Of(candidate);
        if (controllerRef is not null)
        {
            if (controllerRef.Uid != owner.Uid)
            {
                return ClaimDecision.Ignore;
            }

            if (matches)
            {
                return ClaimDecision.Keep;
            }

            // A deleting owner or a deleting object is left as it is: the garbage collector finishes the job.
            return ownerDeleting || candidate.DeletionTimestamp is not null ? ClaimDecision.Ignore : ClaimDecision.Release;
        }

        if (ownerDeleting || !matches || candidate.DeletionTimestamp is not null)
        {
            return ClaimDecision.Ignore;
        }

        return ClaimDecision.Adopt;
    }
}
