using Kubesharp.Cri;
using Kubesharp.Cri.V1;

namespace Kubesharp.Kubelet.Pods;

/// <summary>
/// Notices containers and sandboxes that changed state in the runtime (a container exiting, a sandbox
/// dying) by relisting periodically, and names the pods (by UID) that need a sync.
/// </summary>
internal sealed class PodLifecycleEventGenerator
{
    private readonly IRuntimeService runtime;
    private Dictionary<string, (string Uid, string State)> last = [];

    public PodLifecycleEventGenerator(IRuntimeService runtime)
    {
        this.runtime = runtime;
    }

    /// <summary>The UIDs of pods whose containers or sandboxes appeared, changed state or disappeared since the last relist.</summary>
    public async Task<HashSet<string>> RelistAsync(CancellationToken cancellationToken)
    {
        var current = new Dictionary<string, (string, string)>(StringComparer.Ordinal);
        var sandboxFilter = new PodSandboxFilter();
        sandboxFilter.LabelSelector.Add(CriLabels.ManagedBy, "true");
        foreach (var sandbox in await runtime.ListPodSandboxAsync(sandboxFilter, cancellationToken))
        {
            if (sandbox.Labels.TryGetValue(CriLabels.PodUid, out var uid))
            {
                current["s/" + sandbox.Id] = (uid, sandbox.State.ToString());
            }
        }

        var containerFilter = new ContainerFilter();
        containerFilter.LabelSelector.Add(CriLabels.ManagedBy, "true");
        foreach (var container in await runtime.ListContainersAsync(containerFilter, cancellationToken))
        {
            if (container.Labels.TryGetValue(CriLabels.PodUid, out var uid))
            {
                current["c/" + container.Id] = (uid, container.State.ToString());
            }
        }

        var changed = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (id, entry) in current)
        {
            if (!last.TryGetValue(id, out var before) || before.State != entry.Item2)
            {
                changed.Add(entry.Item1);
            }
        }

        foreach (var (id, entry) in last)
        {
            if (!current.ContainsKey(id))
            {
                changed.Add(entry.Uid);
            }
        }

        last = current;
        return changed;
    }

    /// <summary>Every pod UID the runtime has sandboxes or containers of (after the last relist).</summary>
    public IEnumerable<string> KnownUids() => last.Values.Select(v => v.Uid).Distinct();
}
