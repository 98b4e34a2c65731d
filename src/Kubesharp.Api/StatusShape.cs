using System.Text.Json.Nodes;

namespace Kubesharp.Api;

/// <summary>
/// The JSON shape upstream's workload statuses have: counters its types always write are present (0 when
/// unknown), and zero counters, empty strings and empty lists its types leave out are absent. Optional
/// (pointer) fields keep a 0 they were given. The API server shapes every status it stores, and controllers
/// compare statuses in this shape so that a status that did not change is not written again.
/// </summary>
public sealed class StatusShape
{
    private static readonly StatusShape[] Shapes =
    [
        new("apps", "Deployment", typeof(Apps.V1.DeploymentStatus), [],
            ["observedGeneration", "replicas", "updatedReplicas", "readyReplicas", "availableReplicas", "unavailableReplicas", "conditions"]),
        new("apps", "ReplicaSet", typeof(Apps.V1.ReplicaSetStatus), ["replicas"],
            ["fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration", "conditions"]),
        new(string.Empty, "ReplicationController", typeof(Core.V1.ReplicationControllerStatus), ["replicas"],
            ["fullyLabeledReplicas", "readyReplicas", "availableReplicas", "observedGeneration", "conditions"]),
        new("apps", "StatefulSet", typeof(Apps.V1.StatefulSetStatus), ["replicas", "availableReplicas"],
            ["observedGeneration", "readyReplicas", "currentReplicas", "updatedReplicas", "currentRevision", "updateRevision", "conditions"]),
        new("apps", "DaemonSet", typeof(Apps.V1.DaemonSetStatus), ["currentNumberScheduled", "numberMisscheduled", "desiredNumberScheduled", "numberReady"],
            ["observedGeneration", "updatedNumberScheduled", "numberAvailable", "numberUnavailable", "conditions"]),
        new("batch", "Job", typeof(Batch.V1.JobStatus), [],
            ["conditions", "active", "succeeded", "failed", "completedIndexes"]),
        new("batch", "CronJob", typeof(Batch.V1.CronJobStatus), [], ["active"]),
    ];

    private readonly string[] _always;
    private readonly string[] _omittedWhenEmpty;

    private StatusShape(string group, string kind, Type statusType, string[] always, string[] omittedWhenEmpty)
    {
        Group = group;
        Kind = kind;
        StatusType = statusType;
        _always = always;
        _omittedWhenEmpty = omittedWhenEmpty;
    }

    public string Group { get; }

    public string Kind { get; }

    public Type StatusType { get; }

    /// <summary>The shape of a kind's status, or null when the kind's status is written as given.</summary>
    public static StatusShape? For(string group, string kind) =>
        Array.Find(Shapes, s => s.Group == group && s.Kind == kind);

    /// <summary>The shape of a typed status, or null when the type is not a shaped workload status.</summary>
    public static StatusShape? For(Type statusType) => Array.Find(Shapes, s => s.StatusType == statusType);

    /// <summary>The status of a new object: an empty status with the counters upstream always writes.</summary>
    public JsonObject Initial()
    {
        var status = new JsonObject();
        Apply(status);
        return status;
    }

    /// <summary>Brings a status into upstream's shape, in place.</summary>
    public void Apply(JsonObject status)
    {
        foreach (var field in _omittedWhenEmpty)
        {
            if (IsEmpty(status[field]))
            {
                status.Remove(field);
            }
        }

        foreach (var field in _always)
        {
            if (status[field] is null)
            {
                status[field] = 0;
            }
        }
    }

    private static bool IsEmpty(JsonNode? value) => value switch
    {
        null => true,
        JsonArray array => array.Count == 0,
        JsonValue number when number.GetValueKind() == System.Text.Json.JsonValueKind.Number =>
            double.TryParse(number.ToJsonString(), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var n) && n == 0,
        JsonValue text when text.GetValueKind() == System.Text.Json.JsonValueKind.String => text.GetValue<string>().Length == 0,
        _ => false,
    };
}
