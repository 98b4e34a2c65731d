using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.Api;
using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Scheduling.V1;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry;
using Kubesharp.Scheduler.Planning;
using Microsoft.AspNetCore.Http;

namespace Kubesharp.ApiServer.Planning;

/// <summary>
/// plan.kubesharp.io/v1 schedulingplans: a create-only, cluster-scoped resource answered, never stored (like the
/// access reviews). The plan runs the scheduler's algorithm in the API server over the watch cache's nodes and pods,
/// so it needs no running scheduler and every server of a cluster answers it; authorization is the ordinary
/// "create schedulingplans.plan.kubesharp.io" check every request passes before it gets here.
/// </summary>
internal sealed class SchedulingPlanEndpoint(ResourceRegistry registry)
{
    public static IReadOnlyList<ApiResource> Resources { get; } =
    [
        new ApiResource
        {
            Group = SchedulingPlan.Group, Version = SchedulingPlan.Version, Resource = SchedulingPlan.Resource, Kind = SchedulingPlan.KubeKind,
            ListKind = SchedulingPlan.KubeKind + "List", SingularName = "schedulingplan", Namespaced = false, Verbs = ["create"],
            DefinitionName = "io.kubesharp.plan.v1.SchedulingPlan",
        },
    ];

    /// <param name="rest">The path after /apis/plan.kubesharp.io/VERSION/.</param>
    public async Task HandleAsync(HttpContext context, string version, string[] rest)
    {
        if (version != SchedulingPlan.Version || rest is not [SchedulingPlan.Resource])
        {
            throw StatusError.PathNotFound();
        }

        if (!HttpMethods.IsPost(context.Request.Method))
        {
            throw StatusError.MethodNotAllowed("the server does not allow this method on the requested resource");
        }

        var body = await RequestBody.ReadObjectAsync(context.Request, registry.Options.MaxRequestBodyBytes, context.RequestAborted).ConfigureAwait(false);
        if ((string?)(body["apiVersion"] as JsonValue) is { } apiVersion && apiVersion != SchedulingPlan.KubeApiVersion)
        {
            throw StatusError.BadRequest($"the API version in the data ({apiVersion}) does not match the expected API version ({SchedulingPlan.KubeApiVersion})");
        }

        if ((string?)(body["kind"] as JsonValue) is { } kind && kind != SchedulingPlan.KubeKind)
        {
            throw StatusError.BadRequest($"the kind in the data ({kind}) does not match the expected kind ({SchedulingPlan.KubeKind})");
        }

        SchedulingPlan plan;
        try
        {
            plan = body.Deserialize(PlanningJsonContext.Default.SchedulingPlan) ?? new SchedulingPlan();
        }
        catch (JsonException e)
        {
            throw StatusError.BadRequest($"error decoding SchedulingPlan: {e.Message.Split(" Path:")[0]} (at {e.Path})");
        }

        plan.ApiVersion = SchedulingPlan.KubeApiVersion;
        plan.Kind = SchedulingPlan.KubeKind;
        plan.Metadata ??= new();
        var revision = registry.Cache.Revision;
        var nodes = Objects(Resource("nodes"), KubernetesJsonContext.Default.CoreV1Node);
        var pods = Objects(Resource("pods"), KubernetesJsonContext.Default.CoreV1Pod);
        var classes = Objects(Resource("priorityclasses.scheduling.k8s.io"), KubernetesJsonContext.Default.SchedulingV1PriorityClass);
        var namespaceLabels = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        foreach (var ns in registry.Cache.For(Resource("namespaces")).Snapshot.Values)
        {
            namespaceLabels[ns.Name] = ns.Labels;
        }

        try
        {
            plan.Status = SchedulingPlanner.Plan(plan.Spec, nodes, pods, classes, namespaceLabels);
        }
        catch (InvalidPlanException e)
        {
            throw StatusError.Invalid(SchedulingPlan.KubeKind, SchedulingPlan.Group, plan.Metadata.Name ?? string.Empty,
                [.. e.Errors.Select(error => new StatusCause(error.Type, error.Message, error.Field))]);
        }

        plan.Status.ResourceVersion = revision.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var answer = JsonSerializer.SerializeToNode(plan, PlanningJsonContext.Default.SchedulingPlan)!;
        await JsonResponses.WriteAsync(context, StatusCodes.Status201Created, answer).ConfigureAwait(false);
    }

    private ApiResource Resource(string groupResource) =>
        registry.FindByGroupResource(groupResource) ?? throw new InvalidOperationException($"the catalog has no {groupResource}");

    private List<T> Objects<T>(ApiResource resource, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> type)
        where T : class
    {
        var snapshot = registry.Cache.For(resource).Snapshot;
        var objects = new List<T>(snapshot.Count);
        foreach (var cached in snapshot.Values)
        {
            if (JsonSerializer.Deserialize(cached.Json, type) is { } obj)
            {
                objects.Add(obj);
            }
        }

        return objects;
    }
}
