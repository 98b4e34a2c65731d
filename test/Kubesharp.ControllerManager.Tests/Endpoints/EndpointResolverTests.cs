using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.ControllerManager.Endpoints;

namespace Kubesharp.ControllerManager.Tests.Endpoints;

public sealed class EndpointResolverTests
{
    internal static Service NewService(string name = "web", bool publishNotReady = false, string clusterIp = "10.43.0.20") => new()
    {
        Metadata = new ObjectMeta { Namespace = "shop", Name = name, Uid = "svc-uid", Labels = new() { ["team"] = "a" } },
        Spec = new ServiceSpec
        {
            Selector = new() { ["app"] = "web" },
            ClusterIP = clusterIp,
            PublishNotReadyAddresses = publishNotReady,
            Ports =
            [
                new ServicePort { Name = "http", Port = 80, Protocol = "TCP", TargetPort = new IntOrString("web") },
                new ServicePort { Name = "metrics", Port = 9090, Protocol = "TCP", TargetPort = new IntOrString(9100) },
            ],
        },
    };

    internal static Pod NewPod(string name, string? ip, bool ready = true, bool deleting = false, int webPort = 8080, string app = "web", string? phase = "Running") => new()
    {
        Metadata = new ObjectMeta
        {
            Namespace = "shop",
            Name = name,
            Uid = name + "-uid",
            Labels = new() { ["app"] = app },
            DeletionTimestamp = deleting ? DateTimeOffset.UnixEpoch : null,
        },
        Spec = new PodSpec
        {
            NodeName = "node-1",
            Containers = [new Container { Name = "c", Ports = [new ContainerPort { Name = "web", ContainerPortValue = webPort, Protocol = "TCP" }] }],
        },
        Status = new PodStatus
        {
            Phase = phase,
            PodIP = ip,
            Conditions = [new PodCondition { Type = "Ready", Status = ready ? "True" : "False" }],
        },
    };

    [Fact]
    public void Resolve_ReadyPod_ReadyServingWithNamedPortResolved()
    {
        var endpoint = Assert.Single(EndpointResolver.Resolve(NewService(), [NewPod("a", "10.42.0.5")], "IPv4"));

        Assert.Equal("10.42.0.5", endpoint.Address);
        Assert.True(endpoint.Ready);
        Assert.True(endpoint.Serving);
        Assert.False(endpoint.Terminating);
        Assert.Equal("node-1", endpoint.NodeName);
        Assert.Equal("a", endpoint.TargetRef.Name);
        Assert.Equal([new ResolvedPort("http", "TCP", 8080, null), new ResolvedPort("metrics", "TCP", 9100, null)], endpoint.Ports);
    }

    [Fact]
    public void Resolve_NotReadyPod_NotReadyNotServing()
    {
        var endpoint = Assert.Single(EndpointResolver.Resolve(NewService(), [NewPod("a", "10.42.0.5", ready: false)], "IPv4"));

        Assert.False(endpoint.Ready);
        Assert.False(endpoint.Serving);
    }

    [Fact]
    public void Resolve_TerminatingReadyPod_ServingTerminatingNotReady()
    {
        var endpoint = Assert.Single(EndpointResolver.Resolve(NewService(), [NewPod("a", "10.42.0.5", deleting: true)], "IPv4"));

        Assert.False(endpoint.Ready);
        Assert.True(endpoint.Serving);
        Assert.True(endpoint.Terminating);
    }

    [Fact]
    public void Resolve_PublishNotReadyAddresses_AlwaysReady()
    {
        var endpoint = Assert.Single(EndpointResolver.Resolve(NewService(publishNotReady: true), [NewPod("a", "10.42.0.5", ready: false)], "IPv4"));

        Assert.True(endpoint.Ready);
    }

    [Fact]
    public void Resolve_PodsWithoutIpOtherLabelsOrFinished_Skipped()
    {
        var endpoints = EndpointResolver.Resolve(NewService(), [NewPod("noip", null), NewPod("other", "10.42.0.6", app: "db"), NewPod("done", "10.42.0.7", phase: "Succeeded")], "IPv4");

        Assert.Empty(endpoints);
    }

    [Fact]
    public void Resolve_NamedPortMissingOnPod_DropsThatPort()
    {
        var pod = NewPod("a", "10.42.0.5");
        pod.Spec!.Containers![0].Ports = [];

        var endpoint = Assert.Single(EndpointResolver.Resolve(NewService(), [pod], "IPv4"));

        Assert.Equal([new ResolvedPort("metrics", "TCP", 9100, null)], endpoint.Ports);
    }

    [Fact]
    public void Plan_NoExisting_CreatesOneSliceWithLabelsAndOwner()
    {
        var service = NewService();
        var endpoints = EndpointResolver.Resolve(service, [NewPod("a", "10.42.0.5"), NewPod("b", "10.42.0.6", ready: false)], "IPv4");

        var plan = EndpointSlicePlanner.Plan(service, endpoints, []);

        var slice = Assert.Single(plan.Create);
        Assert.Equal("web-", slice.Metadata!.GenerateName);
        Assert.Equal("web", slice.Metadata.Labels![EndpointSliceLabels.ServiceName]);
        Assert.Equal(EndpointSliceLabels.ControllerName, slice.Metadata.Labels[EndpointSliceLabels.ManagedBy]);
        Assert.Equal("a", slice.Metadata.Labels["team"]);
        Assert.Equal("svc-uid", Assert.Single(slice.Metadata.OwnerReferences!).Uid);
        Assert.Equal("IPv4", slice.AddressType);
        Assert.Equal(2, slice.Endpoints!.Count);
        Assert.Equal([8080, 9100], slice.Ports!.Select(p => p.Port!.Value));
    }

    [Fact]
    public void Plan_MoreThanMaxEndpoints_SplitsSlices()
    {
        var service = NewService();
        var pods = Enumerable.Range(0, 250).Select(i => NewPod($"p{i}", $"10.42.{i / 200}.{(i % 200) + 1}")).ToList();

        var plan = EndpointSlicePlanner.Plan(service, EndpointResolver.Resolve(service, pods, "IPv4"), []);

        Assert.Equal([100, 100, 50], plan.Create.Select(s => s.Endpoints!.Count));
    }

    [Fact]
    public void Plan_DifferentResolvedPorts_SeparateSlices()
    {
        var service = NewService();
        var pods = new[] { NewPod("a", "10.42.0.5", webPort: 8080), NewPod("b", "10.42.0.6", webPort: 8081) };

        var plan = EndpointSlicePlanner.Plan(service, EndpointResolver.Resolve(service, pods, "IPv4"), []);

        Assert.Equal(2, plan.Create.Count);
    }

    [Fact]
    public void Plan_ExistingUpToDate_NothingToDo()
    {
        var service = NewService();
        var endpoints = EndpointResolver.Resolve(service, [NewPod("a", "10.42.0.5")], "IPv4");
        var existing = EndpointSlicePlanner.Plan(service, endpoints, []).Create[0];
        existing.Metadata!.Name = "web-abc";

        var plan = EndpointSlicePlanner.Plan(service, endpoints, [existing]);

        Assert.True(plan.IsEmpty);
    }

    [Fact]
    public void Plan_PodGone_UpdatesExistingSliceAndKeepsName()
    {
        var service = NewService();
        var before = EndpointResolver.Resolve(service, [NewPod("a", "10.42.0.5"), NewPod("b", "10.42.0.6")], "IPv4");
        var existing = EndpointSlicePlanner.Plan(service, before, []).Create[0];
        existing.Metadata!.Name = "web-abc";
        existing.Metadata.ResourceVersion = "7";

        var plan = EndpointSlicePlanner.Plan(service, EndpointResolver.Resolve(service, [NewPod("a", "10.42.0.5")], "IPv4"), [existing]);

        var updated = Assert.Single(plan.Update);
        Assert.Equal("web-abc", updated.Metadata!.Name);
        Assert.Equal("7", updated.Metadata.ResourceVersion);
        Assert.Equal(["10.42.0.5"], updated.Endpoints!.SelectMany(e => e.Addresses!));
        Assert.Empty(plan.Create);
        Assert.Empty(plan.Delete);
    }

    [Fact]
    public void Plan_NoPods_KeepsOneEmptySliceAndDeletesSurplus()
    {
        var service = NewService();
        var a = new EndpointSlice { Metadata = new ObjectMeta { Name = "web-a" }, AddressType = "IPv4" };
        var b = new EndpointSlice { Metadata = new ObjectMeta { Name = "web-b" }, AddressType = "IPv4" };

        var plan = EndpointSlicePlanner.Plan(service, [], [a, b]);

        Assert.Single(plan.Update);
        Assert.Empty(Assert.Single(plan.Update).Endpoints!);
        Assert.Equal("web-b", Assert.Single(plan.Delete).Metadata!.Name);
    }

    [Fact]
    public void Build_Endpoints_ReadyAndNotReadyAddressesWithoutTerminating()
    {
        var service = NewService();
        var endpoints = EndpointResolver.Resolve(service, [NewPod("a", "10.42.0.5"), NewPod("b", "10.42.0.6", ready: false), NewPod("c", "10.42.0.7", deleting: true)], "IPv4");

        var built = EndpointsBuilder.Build(service, endpoints);

        var subset = Assert.Single(built.Subsets!);
        Assert.Equal(["10.42.0.5"], subset.Addresses!.Select(a => a.Ip));
        Assert.Equal(["10.42.0.6"], subset.NotReadyAddresses!.Select(a => a.Ip));
        Assert.Equal("web", built.Metadata!.Name);
    }

    [Fact]
    public void Manages_ExternalNameOrNoSelector_False()
    {
        var external = NewService();
        external.Spec!.Type = "ExternalName";
        var selectorless = NewService();
        selectorless.Spec!.Selector = null;

        Assert.False(EndpointResolver.Manages(external));
        Assert.False(EndpointResolver.Manages(selectorless));
        Assert.True(EndpointResolver.Manages(NewService()));
    }
}
