using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Network;
using Kubesharp.Kubelet.Volumes;
using CriContainerConfig = Kubesharp.Cri.V1.ContainerConfig;

using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Pods;

/// <summary>Turns a pod spec into CRI sandbox and container configs: env, command, mounts, resources, security, labels.</summary>
internal sealed class PodConfigBuilder
{
    private readonly KubernetesClient client;
    private readonly KubeletOptions options;
    private readonly int nodeCpus;
    private readonly long nodeMemory;

    public PodConfigBuilder(KubernetesClient client, KubeletOptions options, int nodeCpus, long nodeMemory)
    {
        this.client = client;
        this.options = options;
        this.nodeCpus = nodeCpus;
        this.nodeMemory = nodeMemory;
    }

    public string LogDirectory(Pod pod) =>
        Path.Combine(options.PodLogsDir, $"{pod.Metadata!.Namespace}_{pod.Metadata.Name}_{pod.Metadata.Uid}");

    public PodSandboxConfig SandboxConfig(Pod pod, uint attempt)
    {
        var meta = pod.Metadata!;
        var spec = pod.Spec!;
        var config = new PodSandboxConfig
        {
            Metadata = new PodSandboxMetadata { Name = meta.Name, Namespace = meta.Namespace, Uid = meta.Uid, Attempt = attempt },
            Hostname = spec.HostNetwork == true ? "" : Truncate(spec.Hostname ?? meta.Name!, 63),
            LogDirectory = LogDirectory(pod),
            Linux = new LinuxPodSandboxConfig
            {
                SecurityContext = new LinuxSandboxSecurityContext
                {
                    NamespaceOptions = new NamespaceOption
                    {
                        Network = spec.HostNetwork == true ? NamespaceMode.Node : NamespaceMode.Pod,
                        Pid = spec.HostPID == true ? NamespaceMode.Node : spec.ShareProcessNamespace == true ? NamespaceMode.Pod : NamespaceMode.Container,
                        Ipc = spec.HostIPC == true ? NamespaceMode.Node : NamespaceMode.Pod,
                    },
                },
            },
        };
        if (spec.SecurityContext?.RunAsUser is { } user)
        {
            config.Linux.SecurityContext.RunAsUser = new Int64Value { Value = user };
        }

        foreach (var sysctl in spec.SecurityContext?.Sysctls ?? [])
        {
            config.Linux.Sysctls[sysctl.Name] = sysctl.Value;
        }

        config.DnsConfig = DnsConfig(pod);

        foreach (var container in spec.Containers ?? [])
        {
            foreach (var port in container.Ports ?? [])
            {
                if (port.HostPort is > 0)
                {
                    config.PortMappings.Add(new PortMapping
                    {
                        ContainerPort = port.ContainerPortValue ?? 0,
                        HostPort = port.HostPort.Value,
                        HostIp = port.HostIP ?? "",
                        Protocol = port.Protocol switch { "UDP" => Protocol.Udp, "SCTP" => Protocol.Sctp, _ => Protocol.Tcp },
                    });
                }
            }
        }

        foreach (var (key, value) in meta.Labels ?? [])
        {
            config.Labels[key] = value;
        }

        config.Labels[CriLabels.PodName] = meta.Name;
        config.Labels[CriLabels.PodNamespace] = meta.Namespace;
        config.Labels[CriLabels.PodUid] = meta.Uid;
        config.Labels[CriLabels.ManagedBy] = "true";
        foreach (var (key, value) in meta.Annotations ?? [])
        {
            config.Annotations[key] = value;
        }

        return config;
    }

    public async Task<CriContainerConfig> ContainerConfigAsync(
        Pod pod,
        Container container,
        bool init,
        uint attempt,
        string imageRef,
        IReadOnlyDictionary<string, (string HostPath, bool ReadOnly)> volumes,
        string? podIp,
        string hostIp,
        string qosClass,
        CancellationToken cancellationToken)
    {
        var meta = pod.Metadata!;
        var env = await EnvironmentAsync(pod, container, podIp, hostIp, cancellationToken);
        var config = new CriContainerConfig
        {
            Metadata = new ContainerMetadata { Name = container.Name, Attempt = attempt },
            Image = new ImageSpec { Image = imageRef },
            WorkingDir = container.WorkingDir ?? "",
            LogPath = Path.Combine(container.Name!, $"{attempt}.log"),
            Stdin = container.Stdin == true,
            StdinOnce = container.StdinOnce == true,
            Tty = container.Tty == true,
            Linux = new LinuxContainerConfig
            {
                Resources = PodQos.LinuxResources(container, qosClass, nodeMemory),
                SecurityContext = SecurityContext(pod, container),
            },
        };
        config.Command.AddRange((container.Command ?? []).Select(c => Expand(c, env)));
        config.Args.AddRange((container.Args ?? []).Select(a => Expand(a, env)));
        foreach (var (key, value) in env)
        {
            config.Envs.Add(new KeyValue { Key = key, Value = value });
        }

        foreach (var mount in container.VolumeMounts ?? [])
        {
            if (mount.Name is null || !volumes.TryGetValue(mount.Name, out var volume))
            {
                throw new VolumeSetupException($"volume \"{mount.Name}\" of container \"{container.Name}\" is not defined");
            }

            var hostPath = volume.HostPath;
            var subPath = mount.SubPath is { Length: > 0 } sp ? sp : mount.SubPathExpr is { Length: > 0 } expr ? Expand(expr, env) : null;
            if (subPath is not null)
            {
                hostPath = PodVolumes.ResolveSubPath(hostPath, subPath);
            }

            config.Mounts.Add(new Mount
            {
                ContainerPath = mount.MountPath,
                HostPath = hostPath,
                Readonly = mount.ReadOnly == true || volume.ReadOnly,
                Propagation = mount.MountPropagation switch
                {
                    "HostToContainer" => MountPropagation.PropagationHostToContainer,
                    "Bidirectional" => MountPropagation.PropagationBidirectional,
                    _ => MountPropagation.PropagationPrivate,
                },
            });
        }

        // The termination message file: a host file the container writes and the agent reads after it exits.
        var messagePath = container.TerminationMessagePath is { Length: > 0 } tmp ? tmp : "/dev/termination-log";
        var hostMessage = Path.Combine(options.PodsDir, meta.Uid!, "containers", container.Name!, attempt.ToString(CultureInfo.InvariantCulture));
        Directory.CreateDirectory(Path.GetDirectoryName(hostMessage)!);
        File.WriteAllBytes(hostMessage, []);
        FileModes.Set(hostMessage, Convert.ToInt32("666", 8));
        if (!config.Mounts.Any(m => m.ContainerPath == messagePath))
        {
            config.Mounts.Add(new Mount { ContainerPath = messagePath, HostPath = hostMessage });
        }

        config.Labels[CriLabels.PodName] = meta.Name;
        config.Labels[CriLabels.PodNamespace] = meta.Namespace;
        config.Labels[CriLabels.PodUid] = meta.Uid;
        config.Labels[CriLabels.ContainerName] = container.Name;
        config.Labels[CriLabels.ManagedBy] = "true";
        config.Annotations[CriLabels.ContainerHash] = Hash(container);
        config.Annotations[CriLabels.RestartCount] = attempt.ToString(CultureInfo.InvariantCulture);
        config.Annotations[CriLabels.TerminationMessagePath] = messagePath;
        config.Annotations[CriLabels.TerminationMessageHostPath] = hostMessage;
        config.Annotations[CriLabels.TerminationMessagePolicy] = container.TerminationMessagePolicy ?? "File";
        config.Annotations[CriLabels.TerminationGracePeriod] = (pod.Spec!.TerminationGracePeriodSeconds ?? 30).ToString(CultureInfo.InvariantCulture);
        if (init)
        {
            config.Annotations[CriLabels.InitContainer] = "true";
        }

        return config;
    }

    /// <summary>A hash of the container's spec: a container whose spec changed (a new image) is restarted.</summary>
    public static string Hash(Container container)
    {
        var json = KubernetesJson.Serialize(container with { Resources = null });
        return Convert.ToHexStringLower(SHA256.HashData(json))[..16];
    }

    /// <summary>KUBERNETES_SERVICE_HOST, KUBERNETES_SERVICE_PORT and the docker-link style variables of default/kubernetes; none when it has no cluster IP.</summary>
    private async Task<List<KeyValuePair<string, string>>> KubernetesServiceEnvironmentAsync(CancellationToken cancellationToken)
    {
        Service? service;
        try
        {
            service = await client.Resource<Service>().GetAsync("default", "kubernetes", cancellationToken);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return [];
        }

        var ip = service.Spec?.ClusterIP;
        var port = service.Spec?.Ports?.FirstOrDefault(p => p.Name == "https") ?? service.Spec?.Ports?.FirstOrDefault();
        if (string.IsNullOrEmpty(ip) || ip == "None" || port is null)
        {
            return [];
        }

        var number = (port.Port ?? 443).ToString(CultureInfo.InvariantCulture);
        var protocol = (port.Protocol ?? "TCP").ToLowerInvariant();
        var prefix = $"KUBERNETES_PORT_{number}_{protocol.ToUpperInvariant()}";
        return
        [
            new("KUBERNETES_SERVICE_HOST", ip),
            new("KUBERNETES_SERVICE_PORT", number),
            new("KUBERNETES_SERVICE_PORT_HTTPS", number),
            new("KUBERNETES_PORT", $"{protocol}://{ip}:{number}"),
            new(prefix, $"{protocol}://{ip}:{number}"),
            new(prefix + "_PROTO", protocol),
            new(prefix + "_PORT", number),
            new(prefix + "_ADDR", ip),
        ];
    }

    /// <summary>The container's environment in order: envFrom first, then env (later entries win), with $(VAR) expanded.</summary>
    public async Task<List<KeyValuePair<string, string>>> EnvironmentAsync(Pod pod, Container container, string? podIp, string hostIp, CancellationToken cancellationToken)
    {
        var ns = pod.Metadata!.Namespace!;
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        var order = new List<string>();
        void Set(string key, string value)
        {
            if (!values.ContainsKey(key))
            {
                order.Add(key);
            }

            values[key] = value;
        }

        // The API's own Service comes first, as upstream's kubelet sets it for every pod: in-cluster clients find the API by it.
        foreach (var (key, value) in await KubernetesServiceEnvironmentAsync(cancellationToken))
        {
            Set(key, value);
        }

        foreach (var source in container.EnvFrom ?? [])
        {
            var prefix = source.Prefix ?? "";
            if (source.ConfigMapRef is { } cmRef)
            {
                var cm = await GetOptionalAsync<ConfigMap>(ns, cmRef.Name!, cmRef.Optional == true, "configmap", cancellationToken);
                foreach (var (key, value) in cm?.Data ?? [])
                {
                    Set(prefix + key, value);
                }
            }
            else if (source.SecretRef is { } secretRef)
            {
                var secret = await GetOptionalAsync<Secret>(ns, secretRef.Name!, secretRef.Optional == true, "secret", cancellationToken);
                foreach (var (key, value) in secret?.Data ?? [])
                {
                    Set(prefix + key, Encoding.UTF8.GetString(value));
                }
            }
        }

        foreach (var env in container.Env ?? [])
        {
            var name = env.Name!;
            if (env.ValueFrom is not { } from)
            {
                Set(name, Expand(env.Value ?? "", values));
                continue;
            }

            if (from.FieldRef?.FieldPath is { } fieldPath)
            {
                Set(name, PodFieldPaths.Resolve(pod, fieldPath, podIp, hostIp) ?? throw new VolumeSetupException($"unsupported fieldRef \"{fieldPath}\""));
            }
            else if (from.ResourceFieldRef is { } resourceRef)
            {
                var target = resourceRef.ContainerName is { Length: > 0 } cn ? pod.Spec!.Containers!.FirstOrDefault(c => c.Name == cn) ?? container : container;
                Set(name, PodFieldPaths.ResolveResource(target, resourceRef, nodeCpus, nodeMemory));
            }
            else if (from.ConfigMapKeyRef is { } cmKey)
            {
                var cm = await GetOptionalAsync<ConfigMap>(ns, cmKey.Name!, cmKey.Optional == true, "configmap", cancellationToken);
                if (cm?.Data?.TryGetValue(cmKey.Key!, out var value) == true)
                {
                    Set(name, value);
                }
                else if (cmKey.Optional != true)
                {
                    throw new VolumeSetupException($"couldn't find key {cmKey.Key} in ConfigMap {ns}/{cmKey.Name}");
                }
            }
            else if (from.SecretKeyRef is { } secretKey)
            {
                var secret = await GetOptionalAsync<Secret>(ns, secretKey.Name!, secretKey.Optional == true, "secret", cancellationToken);
                if (secret?.Data?.TryGetValue(secretKey.Key!, out var value) == true)
                {
                    Set(name, Encoding.UTF8.GetString(value));
                }
                else if (secretKey.Optional != true)
                {
                    throw new VolumeSetupException($"couldn't find key {secretKey.Key} in Secret {ns}/{secretKey.Name}");
                }
            }
        }

        return order.Select(k => new KeyValuePair<string, string>(k, values[k])).ToList();
    }

    private async Task<T?> GetOptionalAsync<T>(string ns, string name, bool optional, string what, CancellationToken cancellationToken)
        where T : class, ApiMachinery.IKubernetesObject, ApiMachinery.IKubernetesKind, new()
    {
        try
        {
            return await client.Resource<T>().GetAsync(ns, name, cancellationToken);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return optional ? null : throw new VolumeSetupException($"{what} \"{name}\" not found");
        }
    }

    /// <summary>
    /// The sandbox's resolv.conf per dnsPolicy (see <see cref="PodDnsConfig"/>), always spelled out: the runtime
    /// would otherwise copy the node's file, which is wrong for None and misses dnsConfig for Default.
    /// </summary>
    private DNSConfig DnsConfig(Pod pod)
    {
        var host = File.Exists(options.ResolvConf) ? ResolvConf.Parse(File.ReadAllText(options.ResolvConf)) : ResolvConf.Empty;
        var conf = PodDnsConfig.For(pod, options.ClusterDns, options.ClusterDomain, host);
        var dns = new DNSConfig();
        dns.Servers.AddRange(conf.Nameservers);
        dns.Searches.AddRange(conf.Searches);
        dns.Options.AddRange(conf.Options);
        return dns;
    }

    private static LinuxContainerSecurityContext SecurityContext(Pod pod, Container container)
    {
        var podContext = pod.Spec!.SecurityContext;
        var context = container.SecurityContext;
        var result = new LinuxContainerSecurityContext
        {
            Privileged = context?.Privileged == true,
            ReadonlyRootfs = context?.ReadOnlyRootFilesystem == true,
            NoNewPrivs = context?.AllowPrivilegeEscalation == false,
            NamespaceOptions = new NamespaceOption
            {
                Network = pod.Spec.HostNetwork == true ? NamespaceMode.Node : NamespaceMode.Pod,
                Pid = pod.Spec.HostPID == true ? NamespaceMode.Node : pod.Spec.ShareProcessNamespace == true ? NamespaceMode.Pod : NamespaceMode.Container,
                Ipc = pod.Spec.HostIPC == true ? NamespaceMode.Node : NamespaceMode.Pod,
            },
        };
        if ((context?.RunAsUser ?? podContext?.RunAsUser) is { } user)
        {
            result.RunAsUser = new Int64Value { Value = user };
        }

        if ((context?.RunAsGroup ?? podContext?.RunAsGroup) is { } group)
        {
            result.RunAsGroup = new Int64Value { Value = group };
        }

        result.SupplementalGroups.AddRange(podContext?.SupplementalGroups ?? []);
        if (podContext?.FsGroup is { } fsGroup)
        {
            result.SupplementalGroups.Add(fsGroup);
        }

        if (context?.Capabilities is { } capabilities)
        {
            result.Capabilities = new Capability();
            result.Capabilities.AddCapabilities.AddRange(capabilities.Add ?? []);
            result.Capabilities.DropCapabilities.AddRange(capabilities.Drop ?? []);
        }

        return result;
    }

    /// <summary>Expands $(NAME) from the environment; $$ escapes; unknown references stay as written.</summary>
    public static string Expand(string input, IEnumerable<KeyValuePair<string, string>> env)
    {
        if (!input.Contains('$', StringComparison.Ordinal))
        {
            return input;
        }

        var lookup = env as IReadOnlyDictionary<string, string> ?? env.GroupBy(e => e.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        var output = new StringBuilder(input.Length);
        for (var i = 0; i < input.Length; i++)
        {
            if (input[i] != '$' || i + 1 >= input.Length)
            {
                output.Append(input[i]);
                continue;
            }

            if (input[i + 1] == '$')
            {
                output.Append('$');
                i++;
                continue;
            }

            if (input[i + 1] == '(')
            {
                var end = input.IndexOf(')', i + 2);
                if (end > 0)
                {
                    var name = input[(i + 2)..end];
                    if (lookup.TryGetValue(name, out var value))
                    {
                        output.Append(value);
                    }
                    else
                    {
                        output.Append(input, i, end - i + 1);
                    }

                    i = end;
                    continue;
                }
            }

            output.Append('$');
        }

        return output.ToString();
    }

    private static string Truncate(string value, int length) => value.Length <= length ? value : value[..length];
}
