using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Scheduler.Tests;

/// <summary>Builders of nodes and pods for snapshot tests.</summary>
internal static class Make
{
    public static Node Node(string name, string cpu = "4", string memory = "8Gi", int pods = 110, Dictionary<string, string>? labels = null, List<Taint>? taints = null, Dictionary<string, string>? extra = null)
    {
        var allocatable = new Dictionary<string, Quantity>
        {
            ["cpu"] = Quantity.Parse(cpu),
            ["memory"] = Quantity.Parse(memory),
            ["pods"] = new Quantity(pods),
            ["ephemeral-storage"] = Quantity.Parse("100Gi"),
        };
        foreach (var (key, value) in extra ?? [])
        {
            allocatable[key] = Quantity.Parse(value);
        }

        labels ??= [];
        labels["kubernetes.io/hostname"] = name;
        return new Node
        {
            Metadata = new ObjectMeta { Name = name, Labels = labels },
            Spec = new NodeSpec { Taints = taints },
            Status = new NodeStatus { Allocatable = allocatable, Capacity = allocatable },
        };
    }

    public static Pod Pod(string name, string? cpu = null, string? memory = null, string? node = null, Dictionary<string, string>? labels = null, Dictionary<string, string>? extra = null, int priority = 0)
    {
        var requests = new Dictionary<string, Quantity>();
        if (cpu is not null)
        {
            requests["cpu"] = Quantity.Parse(cpu);
        }

        if (memory is not null)
        {
            requests["memory"] = Quantity.Parse(memory);
        }

        foreach (var (key, value) in extra ?? [])
        {
            requests[key] = Quantity.Parse(value);
        }

        return new Pod
        {
            Metadata = new ObjectMeta { Name = name, Namespace = "default", Labels = labels ?? [], Uid = Guid.NewGuid().ToString() },
            Spec = new PodSpec
            {
                NodeName = node,
                Priority = priority,
                Containers = [new Container { Name = "c", Image = "app:1", Resources = new ResourceRequirements { Requests = requests } }],
            },
        };
    }
}
