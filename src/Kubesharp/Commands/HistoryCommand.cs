using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Serialization;
using Kubesharp.Client;

namespace Kubesharp.Commands;

/// <summary>
/// <c>kubesharp history</c>, also the kubectl plugin <c>kubectl history</c> (the executable linked as
/// <c>kubectl-history</c> on PATH), over the server's object history (<c>--history-retention</c>):
/// <c>history KIND/NAME</c> lists revisions with time, manager or user and what changed; <c>--at TIME</c> or
/// <c>--revision R</c> prints the object as it was; <c>--deleted</c> lists deleted objects; <c>restore KIND/NAME</c>
/// puts an object back as it was (its last state before deletion unless a time or revision is given).
/// </summary>
internal static partial class HistoryCommand
{
    private const string DeletedPath = "/apis/history.kubesharp.io/v1";
    private static readonly string[] RevisionColumns = ["REVISION", "TIME", "CHANGE", "MANAGER", "USER"];

    /// <summary>Metadata the server assigns; a restored object gets its own.</summary>
    private static readonly string[] AssignedMetadata = ["resourceVersion", "uid", "creationTimestamp", "deletionTimestamp", "deletionGracePeriodSeconds", "managedFields", "generation", "selfLink"];

    private sealed record Flags(
        Option<string?> Namespace,
        Option<bool> AllNamespaces,
        Option<string?> At,
        Option<long> Revision,
        Option<string?> Output,
        Option<string?> Kubeconfig,
        Option<string?> Context);

    public static Command Create()
    {
        var flags = new Flags(
            new Option<string?>("--namespace", "-n") { Description = "Namespace of the object (default: the kubeconfig context's, else default).", Recursive = true },
            new Option<bool>("--all-namespaces", "-A") { Description = "With --deleted: deleted objects of every namespace." },
            new Option<string?>("--at") { Description = "A time (RFC 3339, e.g. 2026-01-02T15:04:05Z, or a duration ago such as 10m): the object as it was then.", Recursive = true },
            new Option<long>("--revision") { Description = "A revision from the list: the object as it was then.", Recursive = true },
            new Option<string?>("--output", "-o") { Description = "yaml or json (with --at or --revision: yaml by default; otherwise a table)." },
            new Option<string?>("--kubeconfig") { Description = "Kubeconfig of the cluster (default: $KUBECONFIG, ~/.kube/config, then the server's in the default data directory).", Recursive = true },
            new Option<string?>("--context") { Description = "The kubeconfig context to use.", Recursive = true });
        var deleted = new Option<bool>("--deleted") { Description = "List deleted objects of the namespace (or, with -A, of all)." };
        var target = new Argument<string?>("KIND/NAME") { Description = "The object, e.g. deployment/web or widgets.v2.example.com/w1 for a version of the resource (any name kubectl accepts for the kind).", Arity = ArgumentArity.ZeroOrOne };
        var command = new Command("history", "Show an object's revisions, the object as it was at a time, or deleted objects; restore a deleted or changed object.")
        {
            target, deleted, flags.Namespace, flags.AllNamespaces, flags.At, flags.Revision, flags.Output, flags.Kubeconfig, flags.Context,
        };
        command.SetAction((result, cancellationToken) => RunAsync(result, cancellationToken, async (client, @namespace) =>
        {
            if (result.GetValue(deleted))
            {
                return await DeletedAsync(client, result.GetValue(flags.AllNamespaces) ? null : @namespace, result.GetValue(flags.Output), cancellationToken).ConfigureAwait(false);
            }

            var (resource, name) = await TargetAsync(client, result.GetValue(target), cancellationToken).ConfigureAwait(false);
            var path = resource.ObjectPath(@namespace, name) + "/history";
            if (Then(result, flags) is { } query)
            {
                var obj = await client.SendRequiredJsonAsync(HttpMethod.Get, path + query, null, cancellationToken).ConfigureAwait(false) ?? throw NotKept(resource, name);
                return Print(obj, result.GetValue(flags.Output) ?? "yaml");
            }

            var list = await client.SendRequiredJsonAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false) ?? throw NotKept(resource, name);
            return result.GetValue(flags.Output) is { } format ? Print(list, format) : Revisions(list);
        }));

        var restoreTarget = new Argument<string>("KIND/NAME") { Description = "The object to restore." };
        var restore = new Command("restore", "Put an object back as it was: created again when deleted, replaced when it exists. Without --at or --revision: its last state before it was deleted or last changed.")
        {
            restoreTarget,
        };
        restore.SetAction((result, cancellationToken) => RunAsync(result, cancellationToken, async (client, @namespace) =>
        {
            var (resource, name) = await TargetAsync(client, result.GetValue(restoreTarget), cancellationToken).ConfigureAwait(false);
            return await RestoreAsync(client, resource, @namespace, name, Then(result, flags), cancellationToken).ConfigureAwait(false);
        }));
        command.Subcommands.Add(restore);
        return command;

        async Task<int> RunAsync(ParseResult result, CancellationToken cancellationToken, Func<KubernetesClient, string, Task<string>> action)
        {
            var stdout = result.InvocationConfiguration.Output;
            var stderr = result.InvocationConfiguration.Error;
            try
            {
                var kubeconfig = KubectlPlugin.ResolveKubeconfig(result.GetValue(flags.Kubeconfig));
                var context = result.GetValue(flags.Context);
                using var client = KubernetesClient.FromKubeconfig(kubeconfig, context);
                var @namespace = result.GetValue(flags.Namespace) is { Length: > 0 } given ? given : KubectlPlugin.ContextNamespace(kubeconfig, context);
                await stdout.WriteAsync(await action(client, @namespace).ConfigureAwait(false)).ConfigureAwait(false);
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
        }
    }

    private static StatusException NotKept(ServedResource resource, string name) =>
        new(404, "NotFound", $"{resource.Resource} \"{name}\": the server answered no history");

    private static async Task<(ServedResource Resource, string Name)> TargetAsync(KubernetesClient client, string? text, CancellationToken cancellationToken)
    {
        var slash = text?.IndexOf('/', StringComparison.Ordinal) ?? -1;
        if (text is null || slash <= 0 || slash == text.Length - 1)
        {
            throw new FormatException("name the object as KIND/NAME, e.g. deployment/web (or list deleted objects with --deleted)");
        }

        return (await ServedResource.FindAsync(client, text[..slash], cancellationToken).ConfigureAwait(false), text[(slash + 1)..]);
    }

    /// <summary>The query naming a past state: ?revision=R or ?at=TIME (a duration is that long ago); null for neither.</summary>
    private static string? Then(ParseResult result, Flags flags)
    {
        var at = result.GetValue(flags.At);
        var revision = result.GetValue(flags.Revision);
        if (at is not null && revision != 0)
        {
            throw new FormatException("--at and --revision cannot be used together");
        }

        if (revision != 0)
        {
            return revision > 0 ? "?revision=" + revision.ToString(CultureInfo.InvariantCulture) : throw new FormatException("--revision must be positive");
        }

        if (at is null)
        {
            return null;
        }

        var match = AgoPattern().Match(at);
        if (match.Success)
        {
            var amount = double.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
            var ago = match.Groups[2].Value switch
            {
                "s" => TimeSpan.FromSeconds(amount),
                "m" => TimeSpan.FromMinutes(amount),
                "h" => TimeSpan.FromHours(amount),
                _ => TimeSpan.FromDays(amount),
            };
            at = (DateTimeOffset.UtcNow - ago).ToString("O", CultureInfo.InvariantCulture);
        }
        else if (!DateTimeOffset.TryParse(at, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out _))
        {
            throw new FormatException($"--at {at}: not a time such as 2026-01-02T15:04:05Z or a duration ago such as 10m");
        }

        return "?at=" + Uri.EscapeDataString(at);
    }

    [GeneratedRegex("^([0-9]+(?:\\.[0-9]+)?)(s|m|h|d)$", RegexOptions.CultureInvariant)]
    private static partial Regex AgoPattern();

    private static string Print(JsonObject node, string format) => format switch
    {
        "yaml" => YamlEncoder.Encode(node),
        "json" => node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n",
        _ => throw new FormatException($"unable to match a printer suitable for the output format \"{format}\", allowed formats are: json,yaml"),
    };

    /// <summary>REVISION, TIME, CHANGE, MANAGER (the write's field manager, else its user), USER; under each change, what it changed.</summary>
    internal static string Revisions(JsonObject list)
    {
        var records = (list["items"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        var rows = new List<string[]> { RevisionColumns };
        var diffs = new List<List<string>> { new() };
        JsonNode? previous = null;
        foreach (var record in records)
        {
            var user = (string?)record["user"] ?? "<unknown>";
            var time = DateTimeOffset.Parse((string)record["time"]!, CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);
            rows.Add([((long?)record["revision"] ?? 0).ToString(CultureInfo.InvariantCulture), time, (string?)record["type"] ?? string.Empty, (string?)record["manager"] ?? user, user]);
            var current = record["object"];
            diffs.Add((string?)record["type"] == "MODIFIED" && previous is not null ? ObjectDiff.Between(previous, current) : []);
            previous = current;
        }

        var widths = Enumerable.Range(0, 5).Select(i => rows.Max(r => r[i].Length)).ToArray();
        var text = new StringBuilder();
        for (var r = 0; r < rows.Count; r++)
        {
            for (var i = 0; i < 5; i++)
            {
                text.Append(i == 4 ? rows[r][i] : rows[r][i].PadRight(widths[i] + 3));
            }

            text.Append('\n');
            foreach (var line in diffs[r])
            {
                text.Append("    ").Append(line).Append('\n');
            }
        }

        return text.ToString();
    }

    private static async Task<string> DeletedAsync(KubernetesClient client, string? @namespace, string? format, CancellationToken cancellationToken)
    {
        var path = @namespace is null ? $"{DeletedPath}/deletedobjects" : $"{DeletedPath}/namespaces/{Uri.EscapeDataString(@namespace)}/deletedobjects";
        var list = await client.SendRequiredJsonAsync(HttpMethod.Get, path, null, cancellationToken).ConfigureAwait(false)
            ?? throw new StatusException(404, "NotFound", "the server answered no list of deleted objects");
        if (format is not null)
        {
            return Print(list, format);
        }

        var items = (list["items"] as JsonArray ?? []).OfType<JsonObject>().ToList();
        if (items.Count == 0)
        {
            return @namespace is null ? "No deleted objects found.\n" : $"No deleted objects found in {@namespace} namespace.\n";
        }

        var header = new List<string> { "NAME", "DELETED", "USER", "REVISION" };
        if (@namespace is null)
        {
            header.Insert(0, "NAMESPACE");
        }

        var rows = new List<string[]> { header.ToArray() };
        foreach (var item in items)
        {
            var kind = ((string?)item["kind"] ?? string.Empty).ToLowerInvariant();
            var group = (string?)item["apiVersion"] is { } apiVersion && apiVersion.Contains('/', StringComparison.Ordinal) ? "." + apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : string.Empty;
            var row = new List<string>
            {
                $"{kind}{group}/{item["name"]}",
                DateTimeOffset.Parse((string)item["time"]!, CultureInfo.InvariantCulture).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture),
                (string?)item["user"] ?? "<unknown>",
                ((long?)item["revision"] ?? 0).ToString(CultureInfo.InvariantCulture),
            };
            if (@namespace is null)
            {
                row.Insert(0, (string?)item["namespace"] ?? "<none>");
            }

            rows.Add(row.ToArray());
        }

        var widths = Enumerable.Range(0, header.Count).Select(i => rows.Max(r => r[i].Length)).ToArray();
        return string.Concat(rows.Select(r => string.Concat(r.Select((cell, i) => i == r.Length - 1 ? cell : cell.PadRight(widths[i] + 3))) + "\n"));
    }

    private static async Task<string> RestoreAsync(KubernetesClient client, ServedResource resource, string @namespace, string name, string? then, CancellationToken cancellationToken)
    {
        var historyPath = resource.ObjectPath(@namespace, name) + "/history";
        JsonObject past;
        if (then is not null)
        {
            past = await client.SendRequiredJsonAsync(HttpMethod.Get, historyPath + then, null, cancellationToken).ConfigureAwait(false) ?? throw NotKept(resource, name);
        }
        else
        {
            // The last state before the object was deleted (or, for one that exists, before its last change).
            var records = ((await client.SendRequiredJsonAsync(HttpMethod.Get, historyPath, null, cancellationToken).ConfigureAwait(false) ?? throw NotKept(resource, name))["items"] as JsonArray ?? [])
                .OfType<JsonObject>().ToList();
            var exists = records.Count > 0 && (string?)records[^1]["type"] != "DELETED";
            var candidates = exists ? records.Take(records.Count - 1) : records;
            past = candidates.LastOrDefault(r => (string?)r["type"] != "DELETED" && r["object"]?["metadata"]?["deletionTimestamp"] is null)?["object"] as JsonObject
                ?? throw new StatusException(404, "NotFound", $"{resource.Resource} \"{name}\" has no earlier state to restore");
        }

        var revision = (string?)past["metadata"]?["resourceVersion"] ?? "?";
        var desired = past.DeepClone().AsObject();
        desired["apiVersion"] = resource.ApiVersion;
        desired["kind"] = resource.Kind;
        if (desired["metadata"] is JsonObject meta)
        {
            foreach (var field in AssignedMetadata)
            {
                meta.Remove(field);
            }
        }

        var objectPath = resource.ObjectPath(@namespace, name);
        var current = await client.GetJsonAsync(objectPath, cancellationToken).ConfigureAwait(false);
        string done;
        if (current is null)
        {
            await client.SendJsonAsync(HttpMethod.Post, resource.CollectionPath(@namespace) + "?fieldManager=kubectl-history", desired, cancellationToken).ConfigureAwait(false);
            done = "restored";
        }
        else
        {
            // Replaced only if nobody changed it meanwhile: the current resourceVersion is the precondition.
            ((JsonObject)desired["metadata"]!)["resourceVersion"] = current["metadata"]?["resourceVersion"]?.DeepClone();
            await client.SendJsonAsync(HttpMethod.Put, objectPath + "?fieldManager=kubectl-history", desired, cancellationToken).ConfigureAwait(false);
            done = "rolled back";
        }

        var group = resource.Group.Length == 0 ? string.Empty : "." + resource.Group;
        return $"{resource.Kind.ToLowerInvariant()}{group}/{name} {done} to revision {revision}\n";
    }
}
