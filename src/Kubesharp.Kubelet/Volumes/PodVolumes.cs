using System.Runtime.InteropServices;
using System.Text;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.Kubelet.Csi;
using Kubesharp.Kubelet.Pods;

namespace Kubesharp.Kubelet.Volumes;

/// <summary>
/// Sets up a pod's volumes as host directories under DATA/pods/UID/volumes (emptyDir on disk or tmpfs,
/// hostPath as is, configMap/secret/downwardAPI/projected written atomically and refreshed on every sync)
/// and removes them when the pod is gone.
/// </summary>
internal sealed partial class PodVolumes
{
    private const int DefaultFileMode = 420; // 0644

    private readonly KubernetesClient client;
    private readonly string podsDir;
    private readonly TimeProvider time;
    private readonly ServiceAccountTokenCache tokens;
    private readonly CsiVolumes? csi;

    // Volumes whose fsGroup ownership was applied ("UID/NAME"): upstream applies it once, when the volume is mounted.
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> owned = new(StringComparer.Ordinal);

    public PodVolumes(KubernetesClient client, string podsDir, TimeProvider time, CsiVolumes? csi = null)
    {
        this.client = client;
        this.csi = csi;
        this.podsDir = podsDir;
        this.time = time;
        tokens = new ServiceAccountTokenCache(client, time);
    }

    /// <summary>The service-account tokens this node holds for its pods' projected volumes.</summary>
    internal ServiceAccountTokenCache Tokens => tokens;

    public string PodDir(string uid) => Path.Combine(podsDir, uid);

    /// <summary>Creates or refreshes every volume; returns volume name → (host path, read-only).</summary>
    public async Task<Dictionary<string, (string HostPath, bool ReadOnly)>> SetUpAsync(Pod pod, string? podIp, string? hostIp, CancellationToken cancellationToken)
    {
        var uid = pod.Metadata!.Uid!;
        var ns = pod.Metadata.Namespace ?? "default";
        var result = new Dictionary<string, (string, bool)>(StringComparer.Ordinal);
        foreach (var volume in pod.Spec?.Volumes ?? [])
        {
            var name = volume.Name ?? throw new VolumeSetupException("volume without a name");
            if (volume.HostPath is { } hostPath)
            {
                SetUpHostPath(hostPath);
                result[name] = (hostPath.Path!, false);
                continue;
            }

            if (volume.PersistentVolumeClaim is { } claimSource)
            {
                var claimVolume = await ClaimVolumeAsync(ns, claimSource.ClaimName ?? string.Empty, cancellationToken);
                var claimPath = claimVolume.Spec?.Csi is not null
                    ? await Csi(name).SetUpPersistentAsync(pod, name, claimVolume, claimSource.ReadOnly == true, cancellationToken)
                    : ClaimPath(claimVolume);
                ApplyOwnership(pod, name, claimPath, claimSource.ReadOnly == true);
                result[name] = (claimPath, claimSource.ReadOnly == true);
                continue;
            }

            if (volume.Csi is { } inline)
            {
                var published = await Csi(name).SetUpInlineAsync(pod, name, inline, cancellationToken);
                ApplyOwnership(pod, name, published, inline.ReadOnly == true);
                result[name] = (published, inline.ReadOnly == true);
                continue;
            }

            var kind = volume.EmptyDir is not null ? "empty-dir"
                : volume.ConfigMap is not null ? "configmap"
                : volume.Secret is not null ? "secret"
                : volume.DownwardAPI is not null ? "downward-api"
                : volume.Projected is not null ? "projected"
                : throw new VolumeSetupException($"volume \"{name}\" has a type this node does not support");
            var dir = Path.Combine(PodDir(uid), "volumes", kind, name);
            if (volume.EmptyDir is { } emptyDir)
            {
                var created = !Directory.Exists(dir);
                Directory.CreateDirectory(dir);
                if (emptyDir.Medium == "Memory" && !IsMountPoint(dir))
                {
                    var size = emptyDir.SizeLimit is { IsZero: false } limit ? $",size={limit.Value()}" : "";
                    if (Mount("tmpfs", dir, "tmpfs", 0, "mode=0777" + size) != 0)
                    {
                        throw new VolumeSetupException($"mounting tmpfs for volume \"{name}\" failed (errno {Marshal.GetLastPInvokeError()})");
                    }
                }

                if (created)
                {
                    FileModes.Set(dir, Convert.ToInt32("777", 8));
                }

                ApplyOwnership(pod, name, dir, readOnly: false);
                result[name] = (dir, false);
                continue;
            }

            var files = new Dictionary<string, (byte[], int)>(StringComparer.Ordinal);
            if (volume.ConfigMap is { } configMap)
            {
                var data = await ConfigMapDataAsync(ns, configMap.Name!, configMap.Optional == true, cancellationToken);
                Project(files, data, configMap.Items, configMap.DefaultMode ?? DefaultFileMode, configMap.Optional == true);
            }
            else if (volume.Secret is { } secret)
            {
                var data = await SecretDataAsync(ns, secret.SecretName!, secret.Optional == true, cancellationToken);
                Project(files, data, secret.Items, secret.DefaultMode ?? DefaultFileMode, secret.Optional == true);
            }
            else if (volume.DownwardAPI is { } downward)
            {
                ProjectDownward(files, pod, downward.Items, downward.DefaultMode ?? DefaultFileMode, podIp, hostIp);
            }
            else if (volume.Projected is { } projected)
            {
                var mode = projected.DefaultMode ?? DefaultFileMode;
                foreach (var source in projected.Sources ?? [])
                {
                    if (source.ConfigMap is { } cm)
                    {
                        Project(files, await ConfigMapDataAsync(ns, cm.Name!, cm.Optional == true, cancellationToken), cm.Items, mode, cm.Optional == true);
                    }
                    else if (source.Secret is { } s)
                    {
                        Project(files, await SecretDataAsync(ns, s.Name!, s.Optional == true, cancellationToken), s.Items, mode, s.Optional == true);
                    }
                    else if (source.DownwardAPI is { } d)
                    {
                        ProjectDownward(files, pod, d.Items, mode, podIp, hostIp);
                    }
                    else if (source.ServiceAccountToken is { } t)
                    {
                        files[t.Path ?? "token"] = (await tokens.GetAsync(pod, t, cancellationToken), mode);
                    }
                }
            }

            AtomicWriter.Write(dir, files, time);
            result[name] = (dir, true);
        }

        return result;
    }

    /// <summary>The pod's fsGroup on a volume it writes to (emptyDir, claims), once per pod and volume.</summary>
    private void ApplyOwnership(Pod pod, string volumeName, string path, bool readOnly)
    {
        if (pod.Spec?.SecurityContext is not { FsGroup: { } fsGroup } context || !owned.TryAdd(pod.Metadata!.Uid + "/" + volumeName, 0))
        {
            return;
        }

        try
        {
            VolumeOwnership.Apply(path, fsGroup, readOnly, context.FsGroupChangePolicy);
        }
        catch
        {
            owned.TryRemove(pod.Metadata.Uid + "/" + volumeName, out _);
            throw;
        }
    }

    private CsiVolumes Csi(string volumeName) =>
        csi ?? throw new VolumeSetupException($"volume \"{volumeName}\" is a CSI volume, which this node does not serve");

    /// <summary>Unmounts and deletes everything the pod had on this node; CSI volumes are unpublished through their drivers first.</summary>
    public async Task TearDownAsync(string uid, CancellationToken cancellationToken)
    {
        if (csi is not null)
        {
            await csi.TearDownAsync(uid, cancellationToken);
        }

        tokens.Forget(uid);
        foreach (var key in owned.Keys.Where(k => k.StartsWith(uid + "/", StringComparison.Ordinal)))
        {
            owned.TryRemove(key, out _);
        }

        var dir = PodDir(uid);
        if (!Directory.Exists(dir))
        {
            return;
        }

        var prefix = dir + "/";
        foreach (var mountPoint in File.ReadAllLines("/proc/self/mountinfo")
            .Select(line => line.Split(' ')[4].Replace("\\040", " ", StringComparison.Ordinal))
            .Where(m => m.StartsWith(prefix, StringComparison.Ordinal))
            .Distinct()
            .OrderByDescending(m => m.Length))
        {
            _ = Umount2(mountPoint, 2);
        }

        Directory.Delete(dir, recursive: true);
    }

    /// <summary>The pod UIDs that have a directory here (for cleaning up pods deleted while the agent was down).</summary>
    public IEnumerable<string> KnownPodUids() =>
        Directory.Exists(podsDir) ? Directory.EnumerateDirectories(podsDir).Select(Path.GetFileName).OfType<string>() : [];

    /// <summary>
    /// The host path of a volume mount's subPath: it must stay inside the volume after following symlinks,
    /// so a container cannot mount arbitrary host paths through a link it wrote into a shared volume.
    /// </summary>
    public static string ResolveSubPath(string volumePath, string subPath)
    {
        if (Path.IsPathRooted(subPath) || subPath.Split('/').Contains(".."))
        {
            throw new VolumeSetupException($"subPath \"{subPath}\" must be a relative path without '..'");
        }

        var root = Path.GetFullPath(volumePath).TrimEnd('/');
        var realRoot = RealPath(root);
        var candidate = Path.Combine(root, subPath);
        if (!File.Exists(candidate) && !Directory.Exists(candidate) && new FileInfo(candidate).LinkTarget is null)
        {
            Directory.CreateDirectory(candidate);
        }

        var real = RealPath(candidate);
        if (real != realRoot && !real.StartsWith(realRoot + "/", StringComparison.Ordinal))
        {
            throw new VolumeSetupException($"subPath \"{subPath}\" resolves outside of its volume");
        }

        return real;
    }

    private static string RealPath(string path)
    {
        var resolved = RealPathNative(path, IntPtr.Zero);
        if (resolved == IntPtr.Zero)
        {
            throw new VolumeSetupException($"cannot resolve \"{path}\" (errno {Marshal.GetLastPInvokeError()})");
        }

        try
        {
            return Marshal.PtrToStringUTF8(resolved)!;
        }
        finally
        {
            Marshal.FreeHGlobal(resolved);
        }
    }

    private static void SetUpHostPath(HostPathVolumeSource hostPath)
    {
        var path = hostPath.Path ?? throw new VolumeSetupException("hostPath without a path");
        switch (hostPath.Type)
        {
            case "DirectoryOrCreate":
                Directory.CreateDirectory(path);
                break;
            case "FileOrCreate":
                if (!File.Exists(path))
                {
                    Directory.CreateDirectory(Path.GetDirectoryName(path)!);
                    File.WriteAllBytes(path, []);
                }

                break;
            case "Directory" when !Directory.Exists(path):
                throw new VolumeSetupException($"hostPath type check failed: {path} is not a directory");
            case "File" when !File.Exists(path):
                throw new VolumeSetupException($"hostPath type check failed: {path} is not a file");
        }
    }

    /// <summary>The PersistentVolume a claim is bound to.</summary>
    private async Task<PersistentVolume> ClaimVolumeAsync(string ns, string claimName, CancellationToken cancellationToken)
    {
        PersistentVolumeClaim claim;
        try
        {
            claim = await client.Resource<PersistentVolumeClaim>().GetAsync(ns, claimName, cancellationToken);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            throw new VolumeSetupException($"persistentvolumeclaim \"{claimName}\" not found");
        }

        if (claim.Spec?.VolumeName is not { Length: > 0 } volumeName || claim.Status?.Phase != "Bound")
        {
            throw new VolumeSetupException($"error processing PVC {ns}/{claimName}: PVC is not bound");
        }

        try
        {
            return await client.Resource<PersistentVolume>().GetAsync(null, volumeName, cancellationToken);
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            throw new VolumeSetupException($"persistentvolume \"{volumeName}\" not found");
        }
    }

    /// <summary>The host directory behind a bound volume: its hostPath or local path on this node.</summary>
    private static string ClaimPath(PersistentVolume volume)
    {
        var volumeName = volume.Metadata?.Name;
        if (volume.Spec?.HostPath is { } hostPath)
        {
            SetUpHostPath(hostPath);
            return hostPath.Path!;
        }

        if (volume.Spec?.Local?.Path is { } local)
        {
            return Directory.Exists(local) || File.Exists(local) ? local : throw new VolumeSetupException($"path \"{local}\" does not exist");
        }

        throw new VolumeSetupException($"persistentvolume \"{volumeName}\" has a type this node does not support");
    }

    private async Task<Dictionary<string, byte[]>?> ConfigMapDataAsync(string ns, string name, bool optional, CancellationToken cancellationToken)
    {
        try
        {
            var configMap = await client.Resource<ConfigMap>().GetAsync(ns, name, cancellationToken);
            var data = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (var (key, value) in configMap.Data ?? [])
            {
                data[key] = Encoding.UTF8.GetBytes(value);
            }

            foreach (var (key, value) in configMap.BinaryData ?? [])
            {
                data[key] = value;
            }

            return data;
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return optional ? null : throw new VolumeSetupException($"configmap \"{name}\" not found");
        }
    }

    private async Task<Dictionary<string, byte[]>?> SecretDataAsync(string ns, string name, bool optional, CancellationToken cancellationToken)
    {
        try
        {
            var secret = await client.Resource<Secret>().GetAsync(ns, name, cancellationToken);
            var data = new Dictionary<string, byte[]>(secret.Data ?? [], StringComparer.Ordinal);
            foreach (var (key, value) in secret.StringData ?? [])
            {
                data[key] = Encoding.UTF8.GetBytes(value);
            }

            return data;
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return optional ? null : throw new VolumeSetupException($"secret \"{name}\" not found");
        }
    }

    private static void Project(Dictionary<string, (byte[], int)> files, Dictionary<string, byte[]>? data, List<KeyToPath>? items, int mode, bool optional)
    {
        if (data is null)
        {
            return;
        }

        if (items is null || items.Count == 0)
        {
            foreach (var (key, value) in data)
            {
                files[key] = (value, mode);
            }

            return;
        }

        foreach (var item in items)
        {
            if (item.Key is null || !data.TryGetValue(item.Key, out var value))
            {
                if (optional)
                {
                    continue;
                }

                throw new VolumeSetupException($"key \"{item.Key}\" not found");
            }

            files[item.Path ?? item.Key] = (value, item.Mode ?? mode);
        }
    }

    private static void ProjectDownward(Dictionary<string, (byte[], int)> files, Pod pod, List<DownwardAPIVolumeFile>? items, int mode, string? podIp, string? hostIp)
    {
        foreach (var item in items ?? [])
        {
            string? value = null;
            if (item.FieldRef?.FieldPath is { } fieldPath)
            {
                value = PodFieldPaths.Resolve(pod, fieldPath, podIp, hostIp);
            }
            else if (item.ResourceFieldRef is { } resourceRef)
            {
                var container = pod.Spec?.Containers?.FirstOrDefault(c => c.Name == resourceRef.ContainerName) ?? pod.Spec?.Containers?.FirstOrDefault();
                value = container is null ? null : PodFieldPaths.ResolveResource(container, resourceRef, Environment.ProcessorCount, 0);
            }

            if (value is not null && item.Path is not null)
            {
                files[item.Path] = (Encoding.UTF8.GetBytes(value), item.Mode ?? mode);
            }
        }
    }

    private static bool IsMountPoint(string path)
    {
        var full = Path.GetFullPath(path).TrimEnd('/');
        return File.ReadAllLines("/proc/self/mountinfo").Any(line => line.Split(' ')[4] == full);
    }

    [LibraryImport("libc", EntryPoint = "mount", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Mount(string source, string target, string fileSystemType, ulong flags, string data);

    [LibraryImport("libc", EntryPoint = "umount2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Umount2(string target, int flags);

    [LibraryImport("libc", EntryPoint = "realpath", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr RealPathNative(string path, IntPtr resolved);
}
