using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Proxy.Tests;

public sealed class ServiceLoadBalancerTests
{
    private static Node NewNode(string name, string ip, bool ready = true) => new()
    {
        Metadata = new ObjectMeta { Name = name },
        Status = new NodeStatus
        {
            Addresses = [new NodeAddress { Type = "InternalIP", Address = ip }, new NodeAddress { Type = "Hostname", Address = name }],
            Conditions = [new NodeCondition { Type = "Ready", Status = ready ? "True" : "False" }],
        },
    };

    [Fact]
    public void DesiredIngress_LoadBalancer_ReadyNodeAddresses()
    {
        var service = ProxyObjects.Service("web", "10.43.0.20", 80, type: "LoadBalancer", nodePort: 30080);

        var ingress = ServiceLoadBalancer.DesiredIngress(service, [NewNode("b", "192.168.1.12"), NewNode("a", "192.168.1.11"), NewNode("c", "192.168.1.13", ready: false)]);

        Assert.Equal(["192.168.1.11", "192.168.1.12"], ingress!.Select(i => i.Ip));
    }

    [Fact]
    public void DesiredIngress_ClusterIpService_Null()
    {
        Assert.Null(ServiceLoadBalancer.DesiredIngress(ProxyObjects.Service("web", "10.43.0.20", 80), [NewNode("a", "192.168.1.11")]));
    }

    [Fact]
    public void Build_LoadBalancerIngress_ProxiedAsExternalIp()
    {
        var service = ProxyObjects.Service("web", "10.43.0.20", 80, type: "LoadBalancer", nodePort: 30080);
        service.Status = new ServiceStatus { LoadBalancer = new LoadBalancerStatus { Ingress = [new LoadBalancerIngress { Ip = "192.168.1.11" }] } };

        var rule = Assert.Single(ServiceProxyModel.Build([service], []));

        Assert.Equal(["192.168.1.11"], rule.ExternalIps);
        Assert.Equal(30080, rule.NodePort);
    }
}
