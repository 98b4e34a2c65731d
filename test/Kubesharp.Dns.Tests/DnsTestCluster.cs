using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Discovery.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client.Informers;

namespace Kubesharp.Dns.Tests;

/// <summary>Informer caches holding a small cluster: kubernetes, a ClusterIP web, a headless db, an ExternalName and pods.</summary>
internal sealed class DnsTestCluster
{
    public Indexer<Service> Services { get; } = new();

    public Indexer<EndpointSlice> Slices { get; } = new();

    public Indexer<Pod> Pods { get; } = new();

    public static DnsTestCluster Create()
    {
        var cluster = new DnsTestCluster();
        cluster.Services.Upsert(NewService("default", "kubernetes", "10.43.0.1", new ServicePort { Name = "https", Port = 443, Protocol = "TCP" }));
        cluster.Services.Upsert(NewService("shop", "web", "10.43.0.20", new ServicePort { Name = "http", Port = 80, Protocol = "TCP", TargetPort = new IntOrString("web") }, new ServicePort { Name = "dns", Port = 53, Protocol = "UDP" }));
        cluster.Services.Upsert(NewService("shop", "db", "None", new ServicePort { Name = "pg", Port = 5432, Protocol = "TCP" }));
        cluster.Services.Upsert(new Service
        {
            Metadata = new ObjectMeta { Namespace = "shop", Name = "ext" },
            Spec = new ServiceSpec { Type = "ExternalName", ExternalName = "example.org" },
        });
        cluster.Slices.Upsert(new EndpointSlice
        {
            Metadata = new ObjectMeta { Namespace = "shop", Name = "db-abcde", Labels = new() { ["kubernetes.io/service-name"] = "db" } },
            AddressType = "IPv4",
            Ports = [new Kubesharp.Api.Discovery.V1.EndpointPort { Name = "pg", Port = 15432, Protocol = "TCP" }],
            Endpoints =
            [
                NewEndpoint("10.42.0.11", "db-0", ready: true),
                NewEndpoint("10.42.0.12", null, ready: true),
                NewEndpoint("10.42.0.13", "db-2", ready: false),
            ],
        });
        cluster.Slices.Upsert(new EndpointSlice
        {
            Metadata = new ObjectMeta { Namespace = "shop", Name = "web-xyz", Labels = new() { ["kubernetes.io/service-name"] = "web" } },
            AddressType = "IPv4",
            Endpoints = [NewEndpoint("10.42.0.21", null, ready: true)],
        });
        cluster.Pods.Upsert(new Pod
        {
            Metadata = new ObjectMeta { Namespace = "shop", Name = "lonely" },
            Status = new PodStatus { PodIP = "10.42.0.99", PodIPs = [new PodIP { Ip = "10.42.0.99" }] },
        });
        return cluster;
    }

    public static Service NewService(string ns, string name, string clusterIp, params ServicePort[] ports) => new()
    {
        Metadata = new ObjectMeta { Namespace = ns, Name = name },
        Spec = new ServiceSpec { Type = "ClusterIP", ClusterIP = clusterIp, ClusterIPs = [clusterIp], Ports = [.. ports] },
    };

    private static Endpoint NewEndpoint(string ip, string? hostname, bool ready) => new()
    {
        Addresses = [ip],
        Hostname = hostname,
        Conditions = new EndpointConditions { Ready = ready, Serving = ready, Terminating = false },
    };
}
