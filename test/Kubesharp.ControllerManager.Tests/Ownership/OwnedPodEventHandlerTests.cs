using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.WorkQueues;
using Kubesharp.ControllerManager.Expectations;
using Kubesharp.ControllerManager.Ownership;

namespace Kubesharp.ControllerManager.Tests.Ownership;

public sealed class OwnedPodEventHandlerTests : IDisposable
{
    private readonly WorkQueue<string> queue = new();
    private readonly ControllerExpectations expectations = new(TimeProvider.System);
    private readonly List<string> adopters = [];
    private readonly OwnedPodEventHandler handler;

    public OwnedPodEventHandlerTests() =>
        handler = new OwnedPodEventHandler("DaemonSet", queue, expectations, pod => adopters.Add(pod.Metadata!.Name!));

    public void Dispose() => queue.Dispose();

    private static Pod PodOf(string name, string? ownerKind = null, string ownerName = "ds", bool deleting = false) => new()
    {
        Metadata = new ObjectMeta
        {
            Name = name,
            Namespace = "ns",
            DeletionTimestamp = deleting ? DateTimeOffset.UnixEpoch : null,
            OwnerReferences = ownerKind is null ? null : [new OwnerReference { ApiVersion = "apps/v1", Kind = ownerKind, Name = ownerName, Uid = "u", Controller = true }],
        },
    };

    private async Task<List<string>> DrainAsync()
    {
        var keys = new List<string>();
        while (queue.Length > 0)
        {
            var (_, key) = await queue.GetAsync(CancellationToken.None);
            keys.Add(key);
            queue.Done(key);
        }

        return keys;
    }

    [Fact]
    public async Task OnAdd_OwnedPod_WakesTheOwnerAndCountsTheCreation()
    {
        expectations.ExpectCreations("ns/ds", 1);

        handler.OnAdd(PodOf("p", "DaemonSet"));

        Assert.Equal(["ns/ds"], await DrainAsync());
        Assert.True(expectations.Satisfied("ns/ds"));
        Assert.Empty(adopters);
    }

    [Fact]
    public async Task OnAdd_PodOfAnotherKindOrNoOwner_AsksForAdopters()
    {
        handler.OnAdd(PodOf("other", "ReplicaSet"));
        handler.OnAdd(PodOf("orphan"));
        handler.OnAdd(PodOf("going", deleting: true));

        Assert.Empty(await DrainAsync());
        Assert.Equal(["other", "orphan"], adopters);
    }

    [Fact]
    public async Task OnUpdate_OwnerChangedAndDeletionStarted_WakesBothOwnersAndCountsTheDeletion()
    {
        expectations.ExpectDeletions("ns/b", ["ns/p"]);

        handler.OnUpdate(PodOf("p", "DaemonSet", "a"), PodOf("p", "DaemonSet", "b", deleting: true));

        Assert.Equal(["ns/a", "ns/b"], (await DrainAsync()).Order(StringComparer.Ordinal));
        Assert.True(expectations.Satisfied("ns/b"));
    }

    [Fact]
    public async Task OnDelete_OwnedPod_WakesTheOwnerAndCountsTheDeletion()
    {
        expectations.ExpectDeletions("ns/ds", ["ns/p"]);

        handler.OnDelete(PodOf("p", "DaemonSet"));
        handler.OnDelete(PodOf("orphan"));

        Assert.Equal(["ns/ds"], await DrainAsync());
        Assert.True(expectations.Satisfied("ns/ds"));
        Assert.Empty(adopters);
    }
}
