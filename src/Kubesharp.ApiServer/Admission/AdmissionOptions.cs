namespace Kubesharp.ApiServer.Admission;

/// <summary>upstream's --enable-admission-plugins, --disable-admission-plugins and --admission-control-config-file.</summary>
public sealed class AdmissionOptions
{
    /// <summary>Plugins to run besides those on by default.</summary>
    public IReadOnlyList<string> EnablePlugins { get; init; } = [];

    /// <summary>Plugins on by default not to run.</summary>
    public IReadOnlyList<string> DisablePlugins { get; init; } = [];

    /// <summary>An apiserver.config.k8s.io/v1 AdmissionConfiguration file holding the plugins' own configurations.</summary>
    public string? ConfigFile { get; init; }
}
