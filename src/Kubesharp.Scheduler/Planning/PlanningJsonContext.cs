using System.Text.Json.Serialization;

namespace Kubesharp.Scheduler.Planning;

/// <summary>JSON of the SchedulingPlan kind, in the API's shape: nulls left out, numbers never read from strings.</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull, NumberHandling = JsonNumberHandling.Strict)]
[JsonSerializable(typeof(SchedulingPlan))]
public sealed partial class PlanningJsonContext : JsonSerializerContext;
