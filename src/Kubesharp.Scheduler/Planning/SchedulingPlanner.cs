using System.Globalization;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Scheduling.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Scheduler.Framework;
using Kubesharp.Scheduler.Preemption;

namespace Kubesharp.Scheduler.Planning;

/// <summary>
/// What-if scheduling: runs the scheduler's own algorithm and preemption over a private copy of the cluster's
/// nodes and placed pods (plus hypothetical nodes), one planned pod after another, each placement (and each
/// eviction) counted against the pods after it. Pure: the inputs are read, never changed, and nothing is written.
/// </summary>
public static class SchedulingPlanner
{
    /// <summary>Bound on hypothetical nodes.</summary>
    public const int MaxAddedNodes = 10_000;
    public const string DefaultNodePrefix = "planned-node-";
    private const int ExampleNodes = 5;

    /// <param name="nodes">The cluster's nodes.</param>
    /// <param name="pods">The cluster's pods; those on a node (and not finished) take their place in the snapshot.</param>
    /// <param name="priorityClasses">To resolve spec.priorityClassName and the global default, as admission does.</param>
    /// <param name="namespaceLabels">Labels per namespace, for namespace selectors of affinity terms.</param>
    /// <exception cref="InvalidPlanException">The spec is missing or wrong; nothing was planned.</exception>
    public static SchedulingPlanStatus Plan(
        SchedulingPlanSpec? spec,
        IEnumerable<Node> nodes,
        IEnumerable<Pod> pods,
        IEnumerable<PriorityClass> priorityClasses,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>>? namespaceLabels = null)
    {
        ArgumentNullException.ThrowIfNull(nodes);
        ArgumentNullException.ThrowIfNull(pods);
        ArgumentNullException.ThrowIfNull(priorityClasses);
        var errors = new List<PlanFieldError>();
        if (spec?.Objects is not { Count: > 0 } objects)
        {
            throw new InvalidPlanException([new PlanFieldError("FieldValueRequired", "spec.objects", "Required value")]);
        }

        var defaultNamespace = spec.Namespace is { Length: > 0 } ns ? ns : "default";
        var infos = nodes.Select(n => new NodeInfo(n)).ToList();
        var added = AddedNodes(spec.AddNodes, infos, errors);
        infos.AddRange(added.Select(n => new NodeInfo(n)));
        var byName = infos.ToDictionary(n => n.Name, StringComparer.Ordinal);
        var (planned, ignored, manifestClasses) = ManifestPods.Expand(objects, defaultNamespace, infos, errors);
        if (errors.Count > 0)
        {
            throw new InvalidPlanException(errors);
        }

        var classes = priorityClasses.Concat(manifestClasses).Where(c => c.Metadata?.Name is { Length: > 0 })
            .GroupBy(c => c.Metadata!.Name!, StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.Last(), StringComparer.Ordinal);
        var globalDefault = classes.Values.Where(c => c.GlobalDefault == true).MaxBy(c => c.Value ?? 0);
        var existing = new Dictionary<string, PodInfo>(StringComparer.Ordinal);
        foreach (var pod in pods)
        {
            if (pod.Spec?.NodeName is { Length: > 0 } nodeName && byName.TryGetValue(nodeName, out var node)
                && pod.Status?.Phase is not ("Succeeded" or "Failed"))
            {
                var info = new PodInfo(pod, pod.Spec.Priority ?? Resolve(pod.Spec, classes, globalDefault));
                node.AddPod(info);
                existing[info.Key] = info;
            }
        }

        // The scheduling queue takes higher priorities first; equal priorities in manifest order.
        var queue = new List<(string Owner, PodInfo Info)>(planned.Count);
        foreach (var (owner, pod) in planned)
        {
            if (pod.Spec!.PriorityClassName is { Length: > 0 } className && !classes.ContainsKey(className))
            {
                errors.Add(new PlanFieldError("FieldValueNotFound", "spec.objects", $"{owner}: no PriorityClass with name {className} was found"));
                continue;
            }

            queue.Add((owner, new PodInfo(pod, Resolve(pod.Spec, classes, globalDefault))));
        }

        if (errors.Count > 0)
        {
            throw new InvalidPlanException(errors);
        }

        queue = [.. queue.OrderByDescending(p => p.Info.Priority)];
        var labels = namespaceLabels ?? new Dictionary<string, IReadOnlyDictionary<string, string>>();
        var imageCounts = ClusterSnapshot.CountImages(infos);
        var snapshot = new ClusterSnapshot(infos, imageCounts, labels);

        // Seeded: the same cluster and manifests give the same plan.
        var algorithm = new SchedulingAlgorithm(SchedulerProfile.Default(), 0, new Random(0));
        var preemption = new DefaultPreemption(algorithm);
        var entries = new Dictionary<string, PlannedPod>(StringComparer.Ordinal);
        var status = new SchedulingPlanStatus
        {
            Nodes = infos.Count,
            AddedNodes = added.Count == 0 ? null : added.Select(n => n.Metadata!.Name!).ToList(),
            Ignored = ignored.Count == 0 ? null : ignored,
        };
        foreach (var (owner, pod) in queue)
        {
            var entry = new PlannedPod { Namespace = pod.Namespace, Name = pod.Name, Owner = owner, Priority = pod.Priority, Phase = PlannedPod.Pending };
            status.Pods.Add(entry);
            entries[pod.Key] = entry;
            var result = algorithm.Schedule(pod, snapshot);
            if (result.NodeName is { } chosen)
            {
                Place(pod, byName[chosen], entry, ref snapshot, infos, imageCounts, labels);
                continue;
            }

            var reasons = Reasons(result);
            var preempted = preemption.Find(pod, snapshot, result);
            if (preempted.Candidate is { } candidate)
            {
                var node = byName[candidate.NodeName];
                entry.Preempts = [];
                foreach (var victim in candidate.Victims)
                {
                    node.RemovePod(victim.Key);
                    var victimEntry = entries.GetValueOrDefault(victim.Key);
                    entry.Preempts.Add(new PlannedVictim { Namespace = victim.Namespace, Name = victim.Name, Priority = victim.Priority, Planned = victimEntry is not null });
                    if (victimEntry is not null)
                    {
                        victimEntry.Phase = PlannedPod.Pending;
                        victimEntry.Node = null;
                        victimEntry.Message = $"preempted by {pod.Namespace}/{pod.Name} on node {candidate.NodeName}";
                    }
                }

                entry.Message = result.FailureMessage;
                entry.Reasons = reasons;
                Place(pod, node, entry, ref snapshot, infos, imageCounts, labels, rebuild: true);
                continue;
            }

            entry.Message = string.IsNullOrEmpty(preempted.Message) ? result.FailureMessage : result.FailureMessage + " " + preempted.Message;
            entry.Reasons = reasons;
        }

        status.Scheduled = status.Pods.Count(p => p.Phase == PlannedPod.Scheduled);
        status.Pending = status.Pods.Count - status.Scheduled;
        status.Preempted = status.Pods.Sum(p => p.Preempts?.Count ?? 0);
        return status;
    }

    private static void Place(PodInfo pod, NodeInfo node, PlannedPod entry, ref ClusterSnapshot snapshot, List<NodeInfo> infos, Dictionary<string, int> imageCounts,
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> labels, bool rebuild = false)
    {
        node.AddPod(pod);
        entry.Phase = PlannedPod.Scheduled;
        entry.Node = node.Name;

        // The snapshot lists the nodes holding pods with affinity terms once; a change to those lists needs a new one.
        if (rebuild || pod.HasAffinity)
        {
            snapshot = new ClusterSnapshot(infos, imageCounts, labels);
        }
    }

    /// <summary>The filters' reasons, per plugin and reason, with how many nodes each rejected (explain's view, counted).</summary>
    private static List<PlanFilterReason> Reasons(ScheduleResult result)
    {
        var reasons = new Dictionary<(string, string), PlanFilterReason>();
        foreach (var verdict in result.Verdicts)
        {
            if (verdict.Feasible)
            {
                continue;
            }

            foreach (var (plugin, filter) in verdict.Failures)
            {
                foreach (var reason in filter.Reasons)
                {
                    var text = filter.Detail is null ? reason : $"{reason} ({filter.Detail})";
                    if (!reasons.TryGetValue((plugin, text), out var entry))
                    {
                        reasons[(plugin, text)] = entry = new PlanFilterReason { Plugin = plugin, Reason = text, Examples = [] };
                    }

                    entry.Nodes++;
                    if (entry.Examples!.Count < ExampleNodes)
                    {
                        entry.Examples.Add(verdict.Node);
                    }
                }
            }
        }

        return [.. reasons.Values.OrderByDescending(r => r.Nodes).ThenBy(r => r.Plugin, StringComparer.Ordinal).ThenBy(r => r.Reason, StringComparer.Ordinal)];
    }

    private static int Resolve(PodSpec spec, Dictionary<string, PriorityClass> classes, PriorityClass? globalDefault)
    {
        if (spec.PriorityClassName is { Length: > 0 } name && classes.TryGetValue(name, out var named))
        {
            return named.Value ?? 0;
        }

        return spec.Priority ?? globalDefault?.Value ?? 0;
    }

    private static List<Node> AddedNodes(PlanNodePool? pool, List<NodeInfo> existing, List<PlanFieldError> errors)
    {
        if (pool is null || pool.Count == 0)
        {
            return [];
        }

        if (pool.Count is < 0 or > MaxAddedNodes)
        {
            errors.Add(new PlanFieldError("FieldValueInvalid", "spec.addNodes.count", $"Invalid value: {pool.Count}: must be between 0 and {MaxAddedNodes}"));
            return [];
        }

        var capacity = new Dictionary<string, Quantity>(StringComparer.Ordinal);
        foreach (var (resource, text) in pool.Capacity ?? [])
        {
            if (!Quantity.TryParse(text, out var quantity) || quantity.Sign < 0)
            {
                errors.Add(new PlanFieldError("FieldValueInvalid", $"spec.addNodes.capacity[{resource}]", $"Invalid value: \"{text}\": must be a non-negative quantity"));
                continue;
            }

            capacity[resource] = quantity;
        }

        foreach (var required in (string[])["cpu", "memory"])
        {
            if (!(pool.Capacity?.ContainsKey(required) ?? false))
            {
                errors.Add(new PlanFieldError("FieldValueRequired", $"spec.addNodes.capacity[{required}]", "Required value"));
            }
        }

        capacity.TryAdd("pods", Quantity.Parse("110"));
        var prefix = pool.NamePrefix is { Length: > 0 } p ? p : DefaultNodePrefix;
        var taken = existing.Select(n => n.Name).ToHashSet(StringComparer.Ordinal);
        var nodes = new List<Node>(pool.Count);
        for (var i = 1; i <= pool.Count; i++)
        {
            var name = prefix + i.ToString(CultureInfo.InvariantCulture);
            if (taken.Contains(name))
            {
                errors.Add(new PlanFieldError("FieldValueDuplicate", "spec.addNodes.namePrefix", $"Duplicate value: node {name} already exists"));
                break;
            }

            var labels = new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["kubernetes.io/hostname"] = name,
                ["kubernetes.io/os"] = "linux",
                ["kubernetes.io/arch"] = System.Runtime.InteropServices.RuntimeInformation.OSArchitecture == System.Runtime.InteropServices.Architecture.Arm64 ? "arm64" : "amd64",
            };
            foreach (var (key, value) in pool.Labels ?? [])
            {
                labels[key] = value;
            }

            nodes.Add(new Node
            {
                ApiVersion = "v1",
                Kind = "Node",
                Metadata = new ObjectMeta { Name = name, Labels = labels },
                Spec = new NodeSpec { Taints = pool.Taints },
                Status = new NodeStatus { Capacity = new(capacity, StringComparer.Ordinal), Allocatable = new(capacity, StringComparer.Ordinal) },
            });
        }

        return nodes;
    }
}
