using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Discovery;
using Kubesharp.ApiServer.Caching;
using Kubesharp.ApiServer.Http;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.FlowControl;

/// <summary>
/// Upkeep of the configuration objects: the mandatory ones always carry upstream's spec (the exempt level's shares
/// and lendable percent excepted), the suggested ones while apf.kubernetes.io/autoupdate-spec is true (or, without
/// the annotation, while nobody changed them: generation 1); deleted ones come back. Each FlowSchema's Dangling
/// condition says whether its priority level exists.
/// </summary>
internal sealed partial class FlowController
{
    private void RequestMaintenance()
    {
        // 0: idle, 1: running, 2: running and asked again (one more pass follows).
        while (true)
        {
            var state = Volatile.Read(ref _maintenance);
            if (state == 2 || _stopping.IsCancellationRequested)
            {
                return;
            }

            if (Interlocked.CompareExchange(ref _maintenance, state + 1, state) == state)
            {
                if (state == 0)
                {
                    _ = Task.Run(RunMaintenanceAsync, CancellationToken.None);
                }

                return;
            }
        }
    }

    private async Task RunMaintenanceAsync()
    {
        while (true)
        {
            try
            {
                await MaintainAsync(_stopping).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                LogMaintenanceFailed(_logger, ex);
            }

            if (Interlocked.CompareExchange(ref _maintenance, 0, 1) == 1)
            {
                return;
            }

            Volatile.Write(ref _maintenance, 1);
        }
    }

    private async Task MaintainAsync(CancellationToken cancellationToken)
    {
        await Task.WhenAll(
            BootstrapConfiguration.MandatoryPriorityLevels.Select(o => EnsureAsync(_priorityLevels, o, mandatory: true, cancellationToken)).Concat(
            BootstrapConfiguration.SuggestedPriorityLevels.Select(o => EnsureAsync(_priorityLevels, o, mandatory: false, cancellationToken)))).ConfigureAwait(false);
        await Task.WhenAll(
            BootstrapConfiguration.MandatoryFlowSchemas.Select(o => EnsureAsync(_flowSchemas, o, mandatory: true, cancellationToken)).Concat(
            BootstrapConfiguration.SuggestedFlowSchemas.Select(o => EnsureAsync(_flowSchemas, o, mandatory: false, cancellationToken)))).ConfigureAwait(false);
        var levels = _registry.Cache.For(_priorityLevels).Snapshot.Values.Select(l => l.Name).ToHashSet(StringComparer.Ordinal);
        await Task.WhenAll(_registry.Cache.For(_flowSchemas).Snapshot.Values.Select(s => UpdateDanglingAsync(s, levels, cancellationToken))).ConfigureAwait(false);
    }

    private async Task EnsureAsync(ApiResource resource, JsonObject wanted, bool mandatory, CancellationToken cancellationToken)
    {
        var name = Name(wanted);
        var current = _registry.Get(resource, null, name);
        try
        {
            if (current is null)
            {
                await _registry.CreateAsync(resource, null, wanted.DeepClone().AsObject(), dryRun: false, cancellationToken).ConfigureAwait(false);
                return;
            }

            if (!Reconcile(current.ToNode(), wanted, mandatory))
            {
                return;
            }

            await _registry.UpdateAsync(resource, null, name, latest =>
            {
                var node = latest.ToNode();
                ((JsonObject)node["metadata"]!).Remove("resourceVersion");
                Reconcile(node, wanted, mandatory);
                return node;
            }, subresource: null, dryRun: false, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusError error) when (error.Reason is "AlreadyExists" or "NotFound" or "Conflict")
        {
            // Someone else changed it meanwhile; the next pass looks again.
        }
    }

    /// <summary>Brings <paramref name="node"/> to what upkeep wants; false when it already is.</summary>
    private static bool Reconcile(JsonObject node, JsonObject wanted, bool mandatory)
    {
        var meta = (JsonObject)node["metadata"]!;
        var autoUpdate = mandatory || ShouldUpdateSpec(meta);
        var changed = false;
        if (autoUpdate)
        {
            var spec = wanted["spec"]!.DeepClone().AsObject();
            if (spec["exempt"] is JsonObject exempt && node["spec"]?["exempt"] is JsonObject kept)
            {
                // The exempt level's shares and lendable percent are the administrator's to set.
                foreach (var field in new[] { "nominalConcurrencyShares", "lendablePercent" })
                {
                    if (kept[field] is { } value)
                    {
                        exempt[field] = value.DeepClone();
                    }
                }
            }

            if (!JsonNode.DeepEquals(node["spec"], spec))
            {
                node["spec"] = spec;
                changed = true;
            }
        }

        var annotations = meta["annotations"] as JsonObject;
        if (ParseBool((string?)annotations?[BootstrapConfiguration.AutoUpdateAnnotation]) != autoUpdate)
        {
            if (annotations is null)
            {
                meta["annotations"] = annotations = [];
            }

            annotations[BootstrapConfiguration.AutoUpdateAnnotation] = autoUpdate ? "true" : "false";
            changed = true;
        }

        return changed;
    }

    /// <summary>The annotation decides; without a readable one, only an object nobody has changed (generation 1) is updated.</summary>
    private static bool ShouldUpdateSpec(JsonObject meta)
    {
        if (ParseBool((string?)(meta["annotations"] as JsonObject)?[BootstrapConfiguration.AutoUpdateAnnotation]) is { } value)
        {
            return value;
        }

        return Registry.JsonNumber.Int64(meta["generation"]) == 1;
    }

    private static bool? ParseBool(string? text) => text switch
    {
        "1" or "t" or "T" or "true" or "TRUE" or "True" => true,
        "0" or "f" or "F" or "false" or "FALSE" or "False" => false,
        _ => null,
    };

    private async Task UpdateDanglingAsync(CachedObject schema, HashSet<string> levels, CancellationToken cancellationToken)
    {
        var levelName = schema.Root.TryGetProperty("spec", out var spec) && spec.ValueKind == JsonValueKind.Object &&
                        spec.TryGetProperty("priorityLevelConfiguration", out var reference) && reference.ValueKind == JsonValueKind.Object &&
                        reference.TryGetProperty("name", out var name) && name.ValueKind == JsonValueKind.String
            ? name.GetString() ?? string.Empty
            : string.Empty;
        var dangling = !levels.Contains(levelName);
        var status = dangling ? "True" : "False";
        var reason = dangling ? "NotFound" : "Found";
        var message = dangling
            ? $"This FlowSchema references the PriorityLevelConfiguration object named \"{levelName}\" but there is no such object"
            : $"This FlowSchema references the PriorityLevelConfiguration object named \"{levelName}\" and it exists";
        if (DanglingCondition(schema.ToNode()) is { } existing &&
            (string?)existing["status"] == status && (string?)existing["reason"] == reason && (string?)existing["message"] == message)
        {
            return;
        }

        try
        {
            await _registry.UpdateAsync(_flowSchemas, null, schema.Name, latest =>
            {
                var node = latest.ToNode();
                ((JsonObject)node["metadata"]!).Remove("resourceVersion");
                var previous = DanglingCondition(node);
                var transition = previous is not null && (string?)previous["status"] == status && previous["lastTransitionTime"] is { } time
                    ? time.DeepClone()
                    : JsonValue.Create(_registry.Now());
                var condition = new JsonObject
                {
                    ["type"] = "Dangling",
                    ["status"] = status,
                    ["lastTransitionTime"] = transition,
                    ["reason"] = reason,
                    ["message"] = message,
                };
                if (node["status"] is not JsonObject statusObject)
                {
                    node["status"] = statusObject = [];
                }

                if (statusObject["conditions"] is not JsonArray conditions)
                {
                    statusObject["conditions"] = conditions = [];
                }

                if (previous is not null)
                {
                    conditions[conditions.IndexOf(previous)] = condition;
                }
                else
                {
                    conditions.Add((JsonNode?)condition);
                }

                return node;
            }, subresource: "status", dryRun: false, cancellationToken).ConfigureAwait(false);
        }
        catch (StatusError error) when (error.Reason is "NotFound" or "Conflict")
        {
        }
    }

    private static JsonObject? DanglingCondition(JsonObject node) =>
        (node["status"]?["conditions"] as JsonArray)?.OfType<JsonObject>().FirstOrDefault(c => (string?)c["type"] == "Dangling");

    [LoggerMessage(Level = LogLevel.Warning, Message = "Keeping the API Priority and Fairness configuration objects failed")]
    private static partial void LogMaintenanceFailed(ILogger logger, Exception exception);
}
