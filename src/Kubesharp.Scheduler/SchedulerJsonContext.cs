using System.Text.Json.Serialization;

namespace Kubesharp.Scheduler;

[JsonSerializable(typeof(string))]
internal sealed partial class SchedulerJsonContext : JsonSerializerContext;
