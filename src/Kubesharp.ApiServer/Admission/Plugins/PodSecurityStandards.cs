using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Admission.Plugins;

/// <summary>
/// The Pod Security Standards' checks (baseline, and restricted on top of it) over a pod spec, each failure as
/// upstream's reason and detail, e.g. ("privileged", "container \"c\" must not set securityContext.privileged=true").
/// </summary>
internal static class PodSecurityStandards
{
    public const string Privileged = "privileged";
    public const string Baseline = "baseline";
    public const string Restricted = "restricted";

    private static readonly HashSet<string> BaselineCapabilities = new(StringComparer.Ordinal)
    {
        "AUDIT_WRITE", "CHOWN", "DAC_OVERRIDE", "FOWNER", "FSETID", "KILL", "MKNOD", "NET_BIND_SERVICE", "SETFCAP",
        "SETGID", "SETPCAP", "SETUID", "SYS_CHROOT",
    };

    private static readonly string[] HostNamespaceFields = ["hostNetwork", "hostPID", "hostIPC"];

    private static readonly HashSet<string> RestrictedVolumeTypes = new(StringComparer.Ordinal)
    {
        "configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret",
    };

    public static bool IsLevel(string? level) => level is Privileged or Baseline or Restricted;

    public static List<(string Reason, string Detail)> Check(JsonObject spec, string level)
    {
        var failures = new List<(string, string)>();
        if (level == Privileged)
        {
            return failures;
        }

        var containers = Containers(spec).ToList();
        var podContext = spec["securityContext"] as JsonObject;

        var hostNamespaces = HostNamespaceFields.Where(f => (bool?)spec[f] == true).Select(f => f + "=true").ToList();
        if (hostNamespaces.Count > 0)
        {
            failures.Add(("host namespaces", string.Join(", ", hostNamespaces)));
        }

        var privileged = containers.Where(c => (bool?)c.Context?["privileged"] == true).Select(c => c.Name).ToList();
        if (privileged.Count > 0)
        {
            failures.Add(("privileged", $"{Containers(privileged)} must not set securityContext.privileged=true"));
        }

        var volumes = (spec["volumes"] as JsonArray)?.OfType<JsonObject>().ToList() ?? [];
        var hostPaths = volumes.Where(v => v["hostPath"] is not null).Select(v => (string?)v["name"] ?? string.Empty).ToList();
        if (hostPaths.Count > 0)
        {
            failures.Add(("hostPath volumes", $"{Plural("volume", hostPaths)}"));
        }

        var added = containers
            .Select(c => (c.Name, Added: Strings(c.Context?["capabilities"]?["add"]).Where(a => !BaselineCapabilities.Contains(a)).ToList()))
            .Where(c => c.Added.Count > 0)
            .ToList();
        if (added.Count > 0)
        {
            failures.Add(("non-default capabilities", string.Join("; ", added.Select(c => $"container \"{c.Name}\" must not include {string.Join(", ", c.Added.Select(a => $"\"{a}\""))} in securityContext.capabilities.add"))));
        }

        var hostPorts = containers
            .SelectMany(c => ((c.Container["ports"] as JsonArray)?.OfType<JsonObject>() ?? []).Select(p => (c.Name, Port: JsonNumberOf(p["hostPort"]))))
            .Where(p => p.Port is > 0)
            .ToList();
        if (hostPorts.Count > 0)
        {
            var names = hostPorts.Select(p => p.Name).Distinct().ToList();
            var ports = string.Join(", ", hostPorts.Select(p => p.Port!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            failures.Add(("hostPort", $"{Containers(names)} {(names.Count == 1 ? "uses" : "use")} {(hostPorts.Count == 1 ? "hostPort" : "hostPorts")} {ports}"));
        }

        if ((string?)podContext?["seccompProfile"]?["type"] == "Unconfined")
        {
            failures.Add(("seccompProfile", "pod must not set securityContext.seccompProfile.type to \"Unconfined\""));
        }

        var unconfined = containers.Where(c => (string?)c.Context?["seccompProfile"]?["type"] == "Unconfined").Select(c => c.Name).ToList();
        if (unconfined.Count > 0 && level == Baseline)
        {
            failures.Add(("seccompProfile", $"{Containers(unconfined)} must not set securityContext.seccompProfile.type to \"Unconfined\""));
        }

        if (level != Restricted)
        {
            return failures;
        }

        var restrictedVolumes = volumes
            .Select(v => (Name: (string?)v["name"] ?? string.Empty, Type: v.Select(p => p.Key).FirstOrDefault(k => k != "name")))
            .Where(v => v.Type is not null && !RestrictedVolumeTypes.Contains(v.Type))
            .ToList();
        if (restrictedVolumes.Count > 0)
        {
            var types = restrictedVolumes.Select(v => v.Type!).Distinct().ToList();
            failures.Add(("restricted volume types", $"{Plural("volume", restrictedVolumes.Select(v => v.Name).ToList())} {(restrictedVolumes.Count == 1 ? "uses" : "use")} {(types.Count == 1 ? "restricted volume type" : "restricted volume types")} {string.Join(", ", types.Select(t => $"\"{t}\""))}"));
        }

        var escalating = containers.Where(c => (bool?)c.Context?["allowPrivilegeEscalation"] != false).Select(c => c.Name).ToList();
        if (escalating.Count > 0)
        {
            failures.Add(("allowPrivilegeEscalation != false", $"{Containers(escalating)} must set securityContext.allowPrivilegeEscalation=false"));
        }

        var capabilityProblems = new List<string>();
        var notDropping = containers.Where(c => !Strings(c.Context?["capabilities"]?["drop"]).Contains("ALL")).Select(c => c.Name).ToList();
        if (notDropping.Count > 0)
        {
            capabilityProblems.Add($"{Containers(notDropping)} must set securityContext.capabilities.drop=[\"ALL\"]");
        }

        foreach (var c in containers)
        {
            var extra = Strings(c.Context?["capabilities"]?["add"]).Where(a => a != "NET_BIND_SERVICE").ToList();
            if (extra.Count > 0)
            {
                capabilityProblems.Add($"container \"{c.Name}\" must not include {string.Join(", ", extra.Select(a => $"\"{a}\""))} in securityContext.capabilities.add");
            }
        }

        if (capabilityProblems.Count > 0)
        {
            failures.Add(("unrestricted capabilities", string.Join("; ", capabilityProblems)));
        }

        var podNonRoot = (bool?)podContext?["runAsNonRoot"];
        var rootContainers = containers.Where(c => (bool?)c.Context?["runAsNonRoot"] is not true && !(podNonRoot == true && c.Context?["runAsNonRoot"] is null)).Select(c => c.Name).ToList();
        if (podNonRoot == false || rootContainers.Count > 0)
        {
            failures.Add(("runAsNonRoot != true", podNonRoot == false
                ? "pod must not set securityContext.runAsNonRoot=false"
                : $"pod or {Containers(rootContainers)} must set securityContext.runAsNonRoot=true"));
        }

        var rootUsers = new List<string>();
        if (JsonNumberOf(podContext?["runAsUser"]) == 0)
        {
            rootUsers.Add("pod must not set runAsUser=0");
        }

        var rootUserContainers = containers.Where(c => JsonNumberOf(c.Context?["runAsUser"]) == 0).Select(c => c.Name).ToList();
        if (rootUserContainers.Count > 0)
        {
            rootUsers.Add($"{Containers(rootUserContainers)} must not set runAsUser=0");
        }

        if (rootUsers.Count > 0)
        {
            failures.Add(("runAsUser=0", string.Join("; ", rootUsers)));
        }

        var podSeccomp = (string?)podContext?["seccompProfile"]?["type"];
        var podSeccompOk = podSeccomp is "RuntimeDefault" or "Localhost";
        var noSeccomp = containers.Where(c => (string?)c.Context?["seccompProfile"]?["type"] switch
        {
            "RuntimeDefault" or "Localhost" => false,
            null => !podSeccompOk,
            _ => true,
        }).Select(c => c.Name).ToList();
        if (noSeccomp.Count > 0 && podSeccomp != "Unconfined")
        {
            failures.Add(("seccompProfile", $"pod or {Containers(noSeccomp)} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\""));
        }

        return failures;
    }

    public static string Format(IEnumerable<(string Reason, string Detail)> failures) =>
        string.Join(", ", failures.Select(f => $"{f.Reason} ({f.Detail})"));

    private static IEnumerable<(string Name, JsonObject Container, JsonObject? Context)> Containers(JsonObject spec)
    {
        foreach (var list in new[] { "initContainers", "containers", "ephemeralContainers" })
        {
            foreach (var c in (spec[list] as JsonArray)?.OfType<JsonObject>() ?? [])
            {
                yield return ((string?)c["name"] ?? string.Empty, c, c["securityContext"] as JsonObject);
            }
        }
    }

    private static string Containers(IReadOnlyList<string> names) => Plural("container", names);

    private static string Plural(string noun, IReadOnlyList<string> names) =>
        names.Count == 1 ? $"{noun} \"{names[0]}\"" : $"{noun}s {string.Join(", ", names.Select(n => $"\"{n}\""))}";

    private static List<string> Strings(JsonNode? node) => (node as JsonArray)?.Select(n => (string?)n).OfType<string>().ToList() ?? [];

    private static long? JsonNumberOf(JsonNode? node) => Registry.JsonNumber.Int64(node);
}
