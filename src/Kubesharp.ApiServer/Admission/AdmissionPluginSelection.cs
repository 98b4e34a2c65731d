namespace Kubesharp.ApiServer.Admission;

/// <summary>
/// Which admission plugins run: those on by default, plus --enable-admission-plugins, minus
/// --disable-admission-plugins, as upstream decides it (the order of the flags never changes the plugins' order).
/// </summary>
internal sealed class AdmissionPluginSelection
{
    // The plugins of this server's chain, and whether each runs when no flag names it. NodeRestriction and
    // PodTolerationRestriction are off by default upstream; here they are on (the first because every node acts as
    // itself, the second is inert until a namespace is annotated).
    private static readonly Dictionary<string, bool> Switchable = new(StringComparer.Ordinal)
    {
        ["NamespaceLifecycle"] = true,
        ["LimitRanger"] = true,
        ["TaintNodesByCondition"] = true,
        ["Priority"] = true,
        ["DefaultTolerationSeconds"] = true,
        ["PodTolerationRestriction"] = true,
        ["DefaultIngressClass"] = true,
        ["MutatingAdmissionPolicy"] = true,
        ["MutatingAdmissionWebhook"] = true,
        ["NodeRestriction"] = true,
        ["PodSecurity"] = true,
        ["EventRateLimit"] = false,
        ["ValidatingAdmissionPolicy"] = true,
        ["ValidatingAdmissionWebhook"] = true,
        ["ResourceQuota"] = true,
    };

    // Upstream plugins whose rules are part of their resources' strategies here, so they always apply.
    private static readonly HashSet<string> AlwaysOn = new(StringComparer.Ordinal)
    {
        "ServiceAccount", "DefaultStorageClass", "StorageObjectInUseProtection",
    };

    private readonly HashSet<string> _enabled;

    private AdmissionPluginSelection(HashSet<string> enabled) => _enabled = enabled;

    /// <summary>Every plugin name the flags accept.</summary>
    public static IEnumerable<string> Known => Switchable.Keys.Concat(AlwaysOn).Order(StringComparer.Ordinal);

    public bool IsEnabled(string plugin) => _enabled.Contains(plugin);

    /// <exception cref="FormatException">A flag names a plugin this server does not have, or one it cannot switch off.</exception>
    public static AdmissionPluginSelection From(AdmissionOptions options)
    {
        var enabled = Switchable.Where(p => p.Value).Select(p => p.Key).ToHashSet(StringComparer.Ordinal);
        foreach (var name in options.EnablePlugins)
        {
            Check("enable-admission-plugins", name);
            if (Switchable.ContainsKey(name))
            {
                enabled.Add(name);
            }
        }

        foreach (var name in options.DisablePlugins)
        {
            Check("disable-admission-plugins", name);
            if (AlwaysOn.Contains(name))
            {
                throw new FormatException($"--disable-admission-plugins: plugin \"{name}\" cannot be disabled: its rules are part of the resources it applies to");
            }

            if (options.EnablePlugins.Contains(name, StringComparer.Ordinal))
            {
                throw new FormatException($"plugin \"{name}\" is in both --enable-admission-plugins and --disable-admission-plugins");
            }

            enabled.Remove(name);
        }

        return new AdmissionPluginSelection(enabled);
    }

    private static void Check(string flag, string name)
    {
        if (!Switchable.ContainsKey(name) && !AlwaysOn.Contains(name))
        {
            throw new FormatException($"--{flag}: plugin \"{name}\" is unknown (known: {string.Join(", ", Known)})");
        }
    }
}
