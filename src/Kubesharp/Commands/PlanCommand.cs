using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Serialization;
using Kubesharp.Client;
using Kubesharp.Scheduler.Planning;

namespace Kubesharp.Commands;

/// <summary>
/// <c>kubesharp plan -f FILE</c>, also the kubectl plugin <c>kubectl plan</c> (the executable linked as
/// <c>kubectl-plan</c> on PATH): posts the manifests as a plan.kubesharp.io/v1 SchedulingPlan and prints where each
/// pod they would create lands, what it preempts and why the rest stay Pending. Nothing in the cluster changes.
/// </summary>
internal static class PlanCommand
{
    private const string PlansPath = "/apis/" + SchedulingPlan.KubeApiVersion + "/" + SchedulingPlan.Resource;

    public static Command Create()
    {
        var files = new Option<string[]>("--filename", "-f") { Description = "Manifests to plan (files, directories of .yaml/.yml/.json, or - for stdin).", Required = true, AllowMultipleArgumentsPerToken = false };
        var ns = new Option<string?>("--namespace", "-n") { Description = "Namespace of objects that name none (default: default)." };
        var addNodes = new Option<int>("--add-nodes") { Description = "Hypothetical nodes to add to the cluster for the plan." };
        var shape = new Option<string?>("--node-shape") { Description = "Capacity of each added node: cpu=16,memory=64Gi[,pods=110,NAME=N…]." };
        var labels = new Option<string?>("--node-labels") { Description = "Labels of the added nodes: key=value[,key=value…]." };
        var taints = new Option<string?>("--node-taints") { Description = "Taints of the added nodes: key[=value]:Effect[,…]." };
        var output = new Option<string>("--output", "-o") { Description = "table (default), yaml or json.", DefaultValueFactory = _ => "table" };
        var kubeconfig = new Option<string?>("--kubeconfig") { Description = "Kubeconfig of the cluster (default: $KUBECONFIG, ~/.kube/config, then the server's in the default data directory)." };
        var context = new Option<string?>("--context") { Description = "The kubeconfig context to use." };
        var command = new Command("plan", "Show where the pods of manifests would be scheduled, what they would preempt and why any would stay Pending, without creating anything.")
        {
            files, ns, addNodes, shape, labels, taints, output, kubeconfig, context,
        };
        command.SetAction(async (result, cancellationToken) =>
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            try
            {
                var format = result.GetValue(output) ?? "table";
                if (format is not ("table" or "wide" or "yaml" or "json"))
                {
                    throw new FormatException($"unable to match a printer suitable for the output format \"{format}\", allowed formats are: json,yaml,table");
                }

                var path = KubectlPlugin.ResolveKubeconfig(result.GetValue(kubeconfig));
                var contextName = result.GetValue(context);
                var objects = await ReadManifestsAsync(result.GetRequiredValue(files), cancellationToken).ConfigureAwait(false);
                var spec = new JsonObject { ["objects"] = new JsonArray([.. objects]) };
                if (result.GetValue(ns) is { Length: > 0 } @namespace)
                {
                    spec["namespace"] = @namespace;
                }

                if (result.GetValue(addNodes) is var count && count != 0)
                {
                    spec["addNodes"] = NodePool(count, result.GetValue(shape), result.GetValue(labels), result.GetValue(taints));
                }

                var plan = new JsonObject { ["apiVersion"] = SchedulingPlan.KubeApiVersion, ["kind"] = SchedulingPlan.KubeKind, ["spec"] = spec };
                using var client = KubernetesClient.FromKubeconfig(path, contextName);
                var answer = await client.SendJsonAsync(HttpMethod.Post, PlansPath, plan, cancellationToken).ConfigureAwait(false)
                    ?? throw new StatusException(404, "NotFound", "the server doesn't have a resource type \"schedulingplans\" (is it a Kubesharp server?)");
                var text = format switch
                {
                    "json" => answer.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n",
                    "yaml" => YamlEncoder.Encode(answer),
                    _ => Table(answer.Deserialize(PlanningJsonContext.Default.SchedulingPlan)?.Status ?? new SchedulingPlanStatus()),
                };
                await stdout.WriteAsync(text).ConfigureAwait(false);
                return 0;
            }
            catch (StatusException e)
            {
                await stderr.WriteLineAsync($"Error from server ({e.Reason}): {e.Message}").ConfigureAwait(false);
                return 1;
            }
            catch (Exception e) when (e is IOException or HttpRequestException or FormatException or InvalidOperationException or JsonException or UnauthorizedAccessException)
            {
                await stderr.WriteLineAsync($"error: {e.Message}").ConfigureAwait(false);
                return 1;
            }
        });
        return command;
    }

    private static async Task<List<JsonNode>> ReadManifestsAsync(string[] paths, CancellationToken cancellationToken)
    {
        var objects = new List<JsonNode>();
        foreach (var path in paths)
        {
            IEnumerable<string> files = path == "-" ? ["-"]
                : Directory.Exists(path) ? Directory.EnumerateFiles(path).Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal) || f.EndsWith(".json", StringComparison.Ordinal)).Order(StringComparer.Ordinal)
                : [path];
            foreach (var file in files)
            {
                var text = file == "-"
                    ? await Console.In.ReadToEndAsync(cancellationToken).ConfigureAwait(false)
                    : await File.ReadAllTextAsync(file, cancellationToken).ConfigureAwait(false);
                try
                {
                    objects.AddRange(YamlDecoder.DecodeAll(text).Select(node => node is JsonObject ? node : throw new FormatException($"{file}: a document is not an object")));
                }
                catch (StatusException e)
                {
                    throw new FormatException($"error parsing {file}: {e.Message}", e);
                }
            }
        }

        return objects.Count > 0 ? objects : throw new FormatException("no objects passed to plan");
    }

    private static JsonObject NodePool(int count, string? shape, string? labels, string? taints)
    {
        var pool = new JsonObject { ["count"] = count };
        var capacity = Pairs(shape ?? throw new FormatException("--add-nodes needs --node-shape, e.g. cpu=16,memory=64Gi"), "--node-shape");
        pool["capacity"] = new JsonObject([.. capacity.Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]);
        if (labels is { Length: > 0 })
        {
            pool["labels"] = new JsonObject([.. Pairs(labels, "--node-labels").Select(p => KeyValuePair.Create(p.Key, (JsonNode?)p.Value))]);
        }

        if (taints is { Length: > 0 })
        {
            var list = new JsonArray();
            foreach (var taint in taints.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var colon = taint.LastIndexOf(':');
                if (colon <= 0)
                {
                    throw new FormatException($"--node-taints: \"{taint}\" is not key[=value]:Effect");
                }

                var (keyValue, effect) = (taint[..colon], taint[(colon + 1)..]);
                var equals = keyValue.IndexOf('=', StringComparison.Ordinal);
                var item = new JsonObject { ["key"] = equals < 0 ? keyValue : keyValue[..equals], ["effect"] = effect };
                if (equals >= 0)
                {
                    item["value"] = keyValue[(equals + 1)..];
                }

                list.Add((JsonNode)item);
            }

            pool["taints"] = list;
        }

        return pool;
    }

    private static List<KeyValuePair<string, string>> Pairs(string text, string option) =>
        [.. text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(pair =>
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            return equals <= 0 ? throw new FormatException($"{option}: \"{pair}\" is not key=value") : KeyValuePair.Create(pair[..equals], pair[(equals + 1)..]);
        })];

    /// <summary>POD, NODE, PREEMPTS, REASON (the filters' reasons per plugin, with how many nodes gave each), then a summary line.</summary>
    internal static string Table(SchedulingPlanStatus status)
    {
        var namespaces = status.Pods.Select(p => p.Namespace).Distinct(StringComparer.Ordinal).Count();
        var rows = new List<string[]>(status.Pods.Count + 1);
        rows.Add(["POD", "NODE", "PREEMPTS", "REASON"]);
        foreach (var pod in status.Pods)
        {
            var name = namespaces > 1 ? $"{pod.Namespace}/{pod.Name}" : pod.Name;
            var preempts = pod.Preempts is { Count: > 0 } victims
                ? string.Join(",", victims.Select(v => v.Namespace == pod.Namespace ? v.Name : $"{v.Namespace}/{v.Name}"))
                : "<none>";
            string reason;
            if (pod.Phase == PlannedPod.Pending && pod.Reasons is null or { Count: 0 })
            {
                reason = pod.Message ?? "";
            }
            else
            {
                reason = string.Join("; ", (pod.Reasons ?? []).Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Plugin}: {r.Reason} ({r.Nodes} {(r.Nodes == 1 ? "node" : "nodes")})")));
            }

            rows.Add([name, pod.Node ?? "<pending>", preempts, reason]);
        }

        var widths = Enumerable.Range(0, 4).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        foreach (var row in rows)
        {
            for (var i = 0; i < row.Length; i++)
            {
                text.Append(i == row.Length - 1 ? row[i] : row[i].PadRight(widths[i] + 3));
            }

            text.Append('\n');
        }

        text.Append(CultureInfo.InvariantCulture, $"\n{status.Pods.Count} pod(s) on {status.Nodes} node(s)");
        if (status.AddedNodes is { Count: > 0 } added)
        {
            text.Append(CultureInfo.InvariantCulture, $" ({added.Count} added)");
        }

        text.Append(CultureInfo.InvariantCulture, $": {status.Scheduled} scheduled, {status.Pending} pending, {status.Preempted} preempted. Nothing was created.\n");
        if (status.Ignored is { Count: > 0 } ignored)
        {
            text.Append(CultureInfo.InvariantCulture, $"Not planned (they create no pods): {string.Join(", ", ignored)}\n");
        }

        return text.ToString();
    }
}
