using System.Buffers;
using System.Text;
using System.Text.Json;
using Kubesharp.ApiMachinery.Meta.V1;

namespace Kubesharp.Scheduler;

/// <summary>
/// The explainable verdict of a scheduling attempt as compact JSON: nodes grouped by the reasons every failing
/// filter gave, and the per-plugin scores of the best-scored nodes. Failed attempts store it in the pod's
/// annotation <see cref="AnnotationKey"/> (what <c>kubesharp explain pod</c> reads).
/// </summary>
public static class SchedulingVerdict
{
    public const string AnnotationKey = "scheduler.kubesharp.io/verdict";
    private const int NodesPerGroup = 20;
    private const int ScoredNodes = 10;

    public static string ToJson(ScheduleResult result, int attempt, DateTimeOffset time, string? message)
    {
        ArgumentNullException.ThrowIfNull(result);
        var buffer = new ArrayBufferWriter<byte>(1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            writer.WriteNumber("attempt", attempt);
            writer.WriteString("time", Rfc3339.FormatTime(time));
            writer.WriteString("result", result.NodeName is null ? "Unschedulable" : "Scheduled");
            if (result.NodeName is not null)
            {
                writer.WriteString("node", result.NodeName);
            }

            if (!string.IsNullOrEmpty(message))
            {
                writer.WriteString("message", message);
            }

            writer.WriteNumber("nodes", result.TotalNodes);
            writer.WriteNumber("evaluated", result.EvaluatedNodes);
            writer.WriteNumber("feasible", result.FeasibleNodes);
            writer.WriteStartArray("filtered");
            foreach (var group in result.Verdicts.Where(v => !v.Feasible)
                .GroupBy(v => string.Join('\n', v.Failures.SelectMany(f => f.Result.Reasons.Select(r => f.Result.Detail is null ? $"{f.Plugin}: {r}" : $"{f.Plugin}: {r} ({f.Result.Detail})"))), StringComparer.Ordinal)
                .OrderByDescending(g => g.Count()))
            {
                writer.WriteStartObject();
                writer.WriteStartArray("reasons");
                foreach (var reason in group.Key.Split('\n'))
                {
                    writer.WriteStringValue(reason);
                }

                writer.WriteEndArray();
                writer.WriteNumber("count", group.Count());
                writer.WriteStartArray("nodes");
                foreach (var verdict in group.Take(NodesPerGroup))
                {
                    writer.WriteStringValue(verdict.Node);
                }

                writer.WriteEndArray();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteStartArray("scored");
            foreach (var verdict in result.Verdicts.Where(v => v.Feasible && v.HasScores).OrderByDescending(v => v.TotalScore).Take(ScoredNodes))
            {
                writer.WriteStartObject();
                writer.WriteString("node", verdict.Node);
                writer.WriteNumber("total", verdict.TotalScore);
                writer.WriteStartObject("scores");
                foreach (var (plugin, score) in verdict.Scores)
                {
                    writer.WriteNumber(plugin, score);
                }

                writer.WriteEndObject();
                writer.WriteEndObject();
            }

            writer.WriteEndArray();
            writer.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }
}
