using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Cri.Tests.Support;
using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>The events a real node records about pods: upstream's reasons, messages, sources and container field paths.</summary>
[Collection(NodeCollection.Name)]
public sealed class PodEventsEndToEndTests(NodeFixture fixture)
{
    private const string Ns = "default";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);

    [RuntimeFact]
    public async Task Events_PodStartsAndFailsLiveness_RecordedPerContainer()
    {
        var pod = NewPod("evented", new Container
        {
            Name = "app",
            Image = NodeFixture.BusyboxImage,
            ImagePullPolicy = "Never",
            Command = ["sh", "-c", "trap 'exit 0' TERM; while true; do sleep 1; done"],
            LivenessProbe = new Probe { Exec = new ExecAction { Command = ["test", "-f", "/tmp/never"] }, PeriodSeconds = 1, FailureThreshold = 1 },
        });
        pod.Spec!.InitContainers = [new Container { Name = "prepare", Image = NodeFixture.BusyboxImage, ImagePullPolicy = "Never", Command = ["true"] }];
        var created = await fixture.Client.Resource<Pod>().CreateAsync(pod);

        var events = await WaitEventsAsync(created.Metadata!.Uid!, e => e.Any(x => x.Reason == "Killing"));

        void Has(string fieldPath, string type, string reason, string message) =>
            Assert.True(
                events.Any(e => e.InvolvedObject!.FieldPath == fieldPath && e.Type == type && e.Reason == reason && e.Message == message),
                $"no {type} {reason} \"{message}\" on {fieldPath}; got:\n" + string.Join('\n', events.Select(e => $"{e.InvolvedObject!.FieldPath} {e.Type} {e.Reason} {e.Message}")));
        var image = NodeFixture.BusyboxImage;
        Has("spec.initContainers{prepare}", "Normal", "Pulled", $"Container image \"{image}\" already present on machine");
        Has("spec.initContainers{prepare}", "Normal", "Created", "Created container: prepare");
        Has("spec.initContainers{prepare}", "Normal", "Started", "Started container prepare");
        Has("spec.containers{app}", "Normal", "Created", "Created container: app");
        Has("spec.containers{app}", "Normal", "Started", "Started container app");
        Has("spec.containers{app}", "Normal", "Killing", "Container app failed liveness probe, will be restarted");
        var unhealthy = Assert.Single(events, e => e.Reason == "Unhealthy");
        Assert.Equal("Warning", unhealthy.Type);
        Assert.StartsWith("Liveness probe failed: ", unhealthy.Message, StringComparison.Ordinal);
        Assert.All(events, e =>
        {
            Assert.Equal("kubelet", e.Source!.Component);
            Assert.Equal(fixture.NodeName, e.Source.Host);
            Assert.Equal("Pod", e.InvolvedObject!.Kind);
        });

        await DeletePodAsync("evented");
    }

    [RuntimeFact]
    public async Task Events_ImageAbsentWithPullPolicyNever_WarnsErrImageNeverPull()
    {
        const string image = "docker.io/kubesharp/absent:never";
        var created = await fixture.Client.Resource<Pod>().CreateAsync(NewPod("never-pulled", new Container { Name = "app", Image = image, ImagePullPolicy = "Never" }));

        var events = await WaitEventsAsync(created.Metadata!.Uid!, e => e.Any(x => x.Message == "Error: ErrImageNeverPull"));

        var never = Assert.Single(events, e => e.Reason == "ErrImageNeverPull");
        Assert.Equal("Warning", never.Type);
        Assert.Equal($"Container image \"{image}\" is not present with pull policy of Never", never.Message);
        Assert.Equal("spec.containers{app}", never.InvolvedObject!.FieldPath);
        var failed = Assert.Single(events, e => e.Reason == "Failed");
        Assert.Equal("Warning", failed.Type);

        await DeletePodAsync("never-pulled");
    }

    [RuntimeFact]
    public async Task Events_NodeRegistered_StartingAndReadyRecorded()
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        List<Event> events = [];
        while (!events.Any(e => e.Reason == "NodeReady"))
        {
            await Task.Delay(200, timeout.Token);
            var list = await fixture.Client.Resource<Event>().ListAsync("default", cancellationToken: timeout.Token);
            events = [.. list.Items.Where(e => e.InvolvedObject?.Kind == "Node" && e.InvolvedObject.Name == fixture.NodeName)];
        }

        Assert.Contains(events, e => e.Reason == "Starting" && e.Message == "Starting kubelet.");
        Assert.Contains(events, e => e.Reason == "NodeHasSufficientMemory" && e.Message == $"Node {fixture.NodeName} status is now: NodeHasSufficientMemory");
        Assert.Contains(events, e => e.Reason == "NodeReady" && e.Message == $"Node {fixture.NodeName} status is now: NodeReady");
        Assert.All(events, e => Assert.Equal(fixture.NodeName, e.InvolvedObject!.Uid));
    }

    private Pod NewPod(string name, Container container) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new ObjectMeta { Name = name, Namespace = Ns },
        Spec = new PodSpec { NodeName = fixture.NodeName, Containers = [container], TerminationGracePeriodSeconds = 1 },
    };

    private async Task<List<Event>> WaitEventsAsync(string uid, Func<List<Event>, bool> done)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        List<Event> events = [];
        try
        {
            while (true)
            {
                var list = await fixture.Client.Resource<Event>().ListAsync(Ns, cancellationToken: timeout.Token);
                events = [.. list.Items.Where(e => e.InvolvedObject?.Uid == uid)];
                if (done(events))
                {
                    return events;
                }

                await Task.Delay(200, timeout.Token);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException("events so far:\n" + string.Join('\n', events.Select(e => $"{e.InvolvedObject!.FieldPath} {e.Type} {e.Reason} {e.Message}")));
        }
    }

    private async Task DeletePodAsync(string name)
    {
        await fixture.Client.Resource<Pod>().DeleteAsync(Ns, name);
        using var timeout = new CancellationTokenSource(WaitLimit);
        while (true)
        {
            try
            {
                await fixture.Client.Resource<Pod>().GetAsync(Ns, name, timeout.Token);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
                return;
            }

            await Task.Delay(200, timeout.Token);
        }
    }
}
