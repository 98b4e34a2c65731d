using Kubesharp.Cri;
using Kubesharp.Cri.V1;

namespace Kubesharp.Kubelet.Pods;

/// <summary>What the runtime has of one pod, found by the pod UID label: its sandboxes and containers with their status.</summary>
internal sealed class RuntimePod
{
    private readonly Dictionary<string, string> sandboxByContainer;

    private RuntimePod(string uid, IReadOnlyList<PodSandbox> sandboxes, IReadOnlyList<ContainerStatus> containers, Dictionary<string, string> sandboxByContainer)
    {
        Uid = uid;
        Sandboxes = sandboxes;
        Containers = containers;
        this.sandboxByContainer = sandboxByContainer;
    }

    public string Uid { get; }

    /// <summary>Newest first.</summary>
    public IReadOnlyList<PodSandbox> Sandboxes { get; }

    /// <summary>Every container of every sandbox, newest first.</summary>
    public IReadOnlyList<ContainerStatus> Containers { get; }

    /// <summary>The newest sandbox when it is ready.</summary>
    public PodSandbox? ReadySandbox => Sandboxes.Count > 0 && Sandboxes[0].State == PodSandboxState.SandboxReady ? Sandboxes[0] : null;

    public static async Task<RuntimePod> LoadAsync(IRuntimeService runtime, string uid, CancellationToken cancellationToken)
    {
        var sandboxFilter = new PodSandboxFilter();
        sandboxFilter.LabelSelector.Add(CriLabels.PodUid, uid);
        var sandboxes = (await runtime.ListPodSandboxAsync(sandboxFilter, cancellationToken))
            .OrderByDescending(s => s.Metadata.Attempt).ThenByDescending(s => s.CreatedAt).ToList();
        var containerFilter = new ContainerFilter();
        containerFilter.LabelSelector.Add(CriLabels.PodUid, uid);
        var listed = await runtime.ListContainersAsync(containerFilter, cancellationToken);
        var statuses = new List<ContainerStatus>(listed.Count);
        var sandboxByContainer = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var container in listed)
        {
            try
            {
                statuses.Add((await runtime.ContainerStatusAsync(container.Id, cancellationToken: cancellationToken)).Status);
                sandboxByContainer[container.Id] = container.PodSandboxId;
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
            {
                // Removed between the list and the status call.
            }
        }

        statuses.Sort((a, b) => b.CreatedAt.CompareTo(a.CreatedAt));
        return new RuntimePod(uid, sandboxes, statuses, sandboxByContainer);
    }

    /// <summary>The newest container of a name, optionally only in one sandbox.</summary>
    public ContainerStatus? Latest(string name, string? sandboxId = null) =>
        Containers.FirstOrDefault(c => c.Metadata.Name == name && (sandboxId is null || SandboxOf(c) == sandboxId));

    /// <summary>The container before the newest one of a name (its previous run, for lastState and logs --previous).</summary>
    public ContainerStatus? Previous(string name) =>
        Containers.Where(c => c.Metadata.Name == name).Skip(1).FirstOrDefault();

    public string? SandboxOf(ContainerStatus status) =>
        sandboxByContainer.TryGetValue(status.Id, out var sandbox) ? sandbox : null;
}
