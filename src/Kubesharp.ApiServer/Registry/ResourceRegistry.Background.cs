using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiServer.Http;
using Kubesharp.ApiServer.Registry.Strategies;

namespace Kubesharp.ApiServer.Registry;

/// <summary>Bootstrap objects, event expiry and the emptying of terminating namespaces.</summary>
internal sealed partial class ResourceRegistry
{
    public static readonly string[] SystemNamespaces = ["default", "kube-system", "kube-public", "kube-node-lease"];

    /// <summary>The address clients reach the API at, for the kubernetes Service's endpoints.</summary>
    public Uri? AdvertisedUrl { get; set; }

    /// <summary>Checks tokens for TokenReviews.</summary>
    internal Security.RequestAuthenticator? Authenticator { get; set; }

    /// <summary>The authorization stage, for access reviews and the escalation checks of RBAC writes.</summary>
    internal Authorization.RequestAuthorizer? Authorizer { get; set; }

    /// <summary>Signs service-account tokens (the serviceaccounts/token subresource).</summary>
    internal Security.ServiceAccountTokens.ServiceAccountTokenIssuer? TokenIssuer { get; set; }

    internal Security.ServiceAccountTokens.TokenRequestEndpoint? TokenRequests { get; set; }

    public async Task BootstrapAsync(CancellationToken cancellationToken)
    {
        // The objects of each step are made together, so that they share the store's commits instead of waiting for a
        // disk sync each; the namespaces come first, as the objects in them need them.
        if (Namespaces is not null)
        {
            await Task.WhenAll(SystemNamespaces.Select(name =>
                EnsureAsync(Namespaces, null, new JsonObject { ["metadata"] = new JsonObject { ["name"] = name } }, cancellationToken))).ConfigureAwait(false);
        }

        var writes = new List<Task>();

        if (FindByGroupResource("services") is { } services)
        {
            var service = new JsonObject
            {
                ["metadata"] = new JsonObject
                {
                    ["name"] = "kubernetes",
                    ["labels"] = new JsonObject { ["component"] = "apiserver", ["provider"] = "kubernetes" },
                },
                ["spec"] = new JsonObject
                {
                    ["clusterIP"] = Options.ServiceCidr.KubernetesServiceIp.ToString(),
                    ["ports"] = new JsonArray(new JsonObject { ["name"] = "https", ["port"] = 443, ["protocol"] = "TCP", ["targetPort"] = AdvertisedUrl?.Port ?? Options.HttpsPort }),
                },
            };
            writes.Add(EnsureAsync(services, "default", service, cancellationToken));
        }

        if (FindByGroupResource("priorityclasses.scheduling.k8s.io") is { } priorityClasses)
        {
            foreach (var (name, value, description) in Kubesharp.ApiServer.Admission.Plugins.PriorityPlugin.SystemClasses)
            {
                writes.Add(EnsureAsync(priorityClasses, null, new JsonObject
                {
                    ["metadata"] = new JsonObject { ["name"] = name },
                    ["value"] = value,
                    ["description"] = description,
                    ["preemptionPolicy"] = "PreemptLowerPriority",
                }, cancellationToken));
            }
        }

        await Task.WhenAll(writes).ConfigureAwait(false);

        // The kubernetes Service's Endpoints and EndpointSlice name the address pods reach the API at; the
        // server keeps them through the API (see KubernetesServiceEndpoints), not here.
    }

    private async Task EnsureAsync(Kubesharp.ApiMachinery.Discovery.ApiResource resource, string? @namespace, JsonObject obj, CancellationToken cancellationToken)
    {
        var name = (string)obj["metadata"]!["name"]!;
        if (Get(resource, @namespace, name) is not null)
        {
            return;
        }

        try
        {
            await CreateAsync(resource, @namespace, obj, dryRun: false, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusError error) when (error.Reason == "AlreadyExists")
        {
        }
    }

    /// <summary>Serves the stored CustomResourceDefinitions, then follows them (see <see cref="CustomResources.CustomResourceDefinitionController"/>).</summary>
    public async Task StartCustomResourcesAsync(CancellationToken cancellationToken)
    {
        if (FindByGroupResource("customresourcedefinitions.apiextensions.k8s.io") is { } definitions)
        {
            await new CustomResources.CustomResourceDefinitionController(this, definitions, _logger).StartAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void StartBackgroundWork(CancellationToken cancellationToken)
    {
        _ = Task.Run(() => RunPeriodicallyAsync(TimeSpan.FromSeconds(1), ReconcileTerminatingNamespacesAsync, cancellationToken), CancellationToken.None);
        _ = Task.Run(() => RunPeriodicallyAsync(TimeSpan.FromSeconds(30), ExpireEventsAsync, cancellationToken), CancellationToken.None);
        if (History is { Options.Enabled: true } history)
        {
            _ = Task.Run(() => RunPeriodicallyAsync(history.Options.PruneInterval, history.PruneAsync, cancellationToken), CancellationToken.None);
            _ = Task.Run(() => RunPeriodicallyAsync(history.Options.FlushInterval, history.FlushAsync, cancellationToken), CancellationToken.None);
        }
    }

    private async Task RunPeriodicallyAsync(TimeSpan period, Func<CancellationToken, Task> work, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(period, TimeProvider);
        try
        {
            do
            {
                try
                {
                    await work(cancellationToken).ConfigureAwait(false);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogBackgroundFailed(_logger, ex);
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Deletes what a terminating namespace holds, then lets the namespace go.</summary>
    public async Task ReconcileTerminatingNamespacesAsync(CancellationToken cancellationToken)
    {
        if (Namespaces is null)
        {
            return;
        }

        foreach (var ns in Cache.For(Namespaces).Snapshot.Values)
        {
            if (!ns.Metadata.TryGetProperty("deletionTimestamp", out _))
            {
                continue;
            }

            var remaining = 0;
            foreach (var resource in Resources.Where(r => r.Namespaced).DistinctBy(r => r.GroupResource))
            {
                foreach (var obj in Cache.For(resource).InNamespace(ns.Name).Values.ToList())
                {
                    remaining++;
                    if (obj.Metadata.TryGetProperty("deletionTimestamp", out _))
                    {
                        continue;
                    }

                    try
                    {
                        await DeleteAsync(resource, obj.Namespace, obj.Name, new DeleteOptions { PropagationPolicy = "Background" }, cancellationToken).ConfigureAwait(false);
                    }
                    catch (StatusError)
                    {
                    }
                }
            }

            if (remaining > 0)
            {
                continue;
            }

            try
            {
                await UpdateAsync(Namespaces, null, ns.Name, current =>
                {
                    var node = current.ToNode();
                    if (node["spec"] is JsonObject spec && spec["finalizers"] is JsonArray finalizers)
                    {
                        var left = finalizers.Where(f => (string?)f != NamespaceStrategy.KubernetesFinalizer).Select(f => f?.DeepClone()).ToArray();
                        spec["finalizers"] = new JsonArray(left);
                    }

                    return node;
                }, "finalize", dryRun: false, cancellationToken).ConfigureAwait(false);
                LogNamespaceRemoved(_logger, ns.Name);
            }
            catch (StatusError)
            {
            }
        }
    }

    /// <summary>Events live for the event TTL after their last change.</summary>
    public async Task ExpireEventsAsync(CancellationToken cancellationToken)
    {
        var now = TimeProvider.GetUtcNow();
        foreach (var resource in Resources.Where(r => r.GroupResource is "events" or "events.events.k8s.io").DistinctBy(r => r.GroupResource))
        {
            foreach (var ev in Cache.For(resource).Snapshot.Values)
            {
                // Parsed for the look and let go: keeping every event's parsed form would double what the cache holds for it.
                DateTimeOffset last;
                using (var parsed = JsonDocument.Parse(ev.Json))
                {
                    last = LastChange(parsed.RootElement);
                }

                if (last + Options.EventTtl > now)
                {
                    continue;
                }

                try
                {
                    await DeleteAsync(resource, ev.Namespace, ev.Name, new DeleteOptions(), cancellationToken).ConfigureAwait(false);
                }
                catch (StatusError)
                {
                }
            }
        }
    }

    private static DateTimeOffset LastChange(JsonElement ev)
    {
        var latest = DateTimeOffset.MinValue;
        void Consider(JsonElement parent, string property)
        {
            if (parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String &&
                DateTimeOffset.TryParse(value.GetString(), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var at) && at > latest)
            {
                latest = at;
            }
        }

        Consider(ev, "lastTimestamp");
        Consider(ev, "eventTime");
        Consider(ev, "deprecatedLastTimestamp");
        if (ev.TryGetProperty("series", out var series))
        {
            Consider(series, "lastObservedTime");
        }

        if (ev.TryGetProperty("metadata", out var meta))
        {
            Consider(meta, "creationTimestamp");
        }

        return latest;
    }
}
