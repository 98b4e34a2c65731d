using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client;
using Kubesharp.ControllerManager;
using Kubesharp.Kubelet.Tests.Support;
using Kubesharp.Kubelet.Volumes;
using Kubesharp.Scheduler;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.Kubelet.Tests.EndToEnd;

/// <summary>
/// Claims on the local-path class through the real kubectl, scheduler, controller manager, node agent and containerd:
/// a StatefulSet's data outlives its pod, deleting a claim of a Delete class removes its directory, a Retain class
/// keeps it with the volume Released, and fsGroup owns what the pod writes.
/// </summary>
[Collection(NodeCollection.Name)]
public sealed class PersistentVolumeEndToEndTests(NodeFixture fixture) : IAsyncLifetime, IDisposable
{
    private const string Ns = "default";
    private static readonly TimeSpan WaitLimit = TimeSpan.FromMinutes(2);
    private readonly string id = Guid.NewGuid().ToString("N")[..6];
    private readonly CancellationTokenSource stopping = new();
    private SchedulerService? scheduler;
    private Task? controllers;

    private Kubectl Kubectl => new(fixture.Server.KubeconfigPath, Path.Combine(fixture.Root, "kubectl-cache"));

    private string StorageDir => fixture.Options.ResolvedLocalStorageDir;

    public async Task InitializeAsync()
    {
        // Under CI the node's prerequisites are part of the run: a missing one fails here instead of skipping.
        Assert.Null(fixture.SkipReason);
        scheduler = new SchedulerService(fixture.Client, new SchedulerOptions(), timeProvider: TimeProvider.System);
        await scheduler.StartAsync(CancellationToken.None);
        controllers = ControllerManager.ControllerManager.RunAsync(fixture.Client, new ControllerManagerOptions { LeaderElect = false }, TimeProvider.System, NullLoggerFactory.Instance, stopping.Token);
        await ApplyAsync($$"""
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata:
              name: local-path
              annotations:
                storageclass.kubernetes.io/is-default-class: "true"
            provisioner: rancher.io/local-path
            reclaimPolicy: Delete
            volumeBindingMode: WaitForFirstConsumer
            allowVolumeExpansion: true
            ---
            apiVersion: storage.k8s.io/v1
            kind: StorageClass
            metadata:
              name: keep-{{id}}
            provisioner: rancher.io/local-path
            reclaimPolicy: Retain
            volumeBindingMode: WaitForFirstConsumer
            """);
    }

    public async Task DisposeAsync()
    {
        await Kubectl.RunAsync(["delete", "statefulset,pod,pvc", "-l", "e2e=" + id, "--ignore-not-found", "--wait=true", "--timeout=90s"], timeout: TimeSpan.FromMinutes(2));
        await Kubectl.RunAsync(["delete", "storageclass", "local-path", "keep-" + id, "--ignore-not-found"]);
        foreach (var volume in (await fixture.Client.Resource<PersistentVolume>().ListAsync(null)).Items.Where(v => v.Spec?.StorageClassName == "keep-" + id))
        {
            await fixture.Client.Resource<PersistentVolume>().DeleteAsync(null, volume.Metadata!.Name!);
            if (volume.Spec?.HostPath?.Path is { } path && path.StartsWith(StorageDir + "/", StringComparison.Ordinal) && Directory.Exists(path))
            {
                Directory.Delete(path, recursive: true);
            }
        }

        // The node tears the pods' sandboxes down after the pods are gone: wait for it (bounded) before the next test.
        for (var i = 0; i < 120 && (await fixture.Agent.Runtime!.Runtime.ListPodSandboxAsync()).Any(s => s.Metadata?.Namespace == Ns && s.Metadata.Name?.Contains(id, StringComparison.Ordinal) == true); i++)
        {
            await Task.Delay(500);
        }

        await stopping.CancelAsync();
        if (controllers is not null)
        {
            await controllers;
        }

        if (scheduler is not null)
        {
            await scheduler.StopAsync(CancellationToken.None);
        }
    }

    public void Dispose()
    {
        scheduler?.Dispose();
        stopping.Dispose();
    }

    [KubectlFact]
    public async Task StatefulSetClaim_PodRecreated_SameDataThenClaimDeletedRemovesDirectory()
    {
        var set = "web-" + id;
        await ApplyAsync($$"""
            apiVersion: apps/v1
            kind: StatefulSet
            metadata:
              name: {{set}}
              labels: {e2e: "{{id}}"}
            spec:
              serviceName: {{set}}
              replicas: 1
              selector:
                matchLabels: {app: "{{set}}"}
              template:
                metadata:
                  labels: {app: {{set}}, e2e: "{{id}}"}
                spec:
                  terminationGracePeriodSeconds: 1
                  securityContext: {runAsUser: 1000, fsGroup: 2000}
                  containers:
                  - name: app
                    image: {{NodeFixture.BusyboxImage}}
                    imagePullPolicy: Never
                    env:
                    - name: POD_UID
                      valueFrom:
                        fieldRef: {fieldPath: metadata.uid}
                    command: ["sh", "-c", "if [ -f /data/note ]; then echo found $(cat /data/note); else echo $POD_UID > /data/note && echo wrote $POD_UID; fi; trap 'exit 0' TERM; while true; do sleep 1; done"]
                    volumeMounts:
                    - {name: data, mountPath: /data}
              volumeClaimTemplates:
              - metadata:
                  name: data
                  labels: {e2e: "{{id}}"}
                spec:
                  accessModes: [ReadWriteOnce]
                  resources:
                    requests: {storage: 64Mi}
            """);
        var pod = set + "-0";
        var claim = "data-" + pod;
        var first = await WaitPodAsync(pod, p => p.Status?.Phase == "Running");
        Assert.Equal("wrote " + first.Metadata!.Uid + "\n", await WaitLogsAsync(pod, "wrote "));

        // The claim took the default class and was provisioned on this node.
        var bound = await fixture.Client.Resource<PersistentVolumeClaim>().GetAsync(Ns, claim);
        Assert.Equal(("Bound", "local-path"), (bound.Status?.Phase, bound.Spec?.StorageClassName));
        var volume = await fixture.Client.Resource<PersistentVolume>().GetAsync(null, bound.Spec!.VolumeName!);
        var directory = Path.Combine(StorageDir, LocalPathProvisioner.DirectoryName(bound));
        Assert.Equal(directory, volume.Spec?.HostPath?.Path);
        Assert.Equal(first.Metadata.Uid + "\n", await File.ReadAllTextAsync(Path.Combine(directory, "note")));

        // fsGroup: the pod's group owns the file it wrote and the volume's root carries set-group-ID.
        Assert.Equal(2000, VolumeOwnership.Stat(Path.Combine(directory, "note"))!.Value.Gid);
        Assert.Equal(2000, VolumeOwnership.Stat(directory)!.Value.Gid);
        Assert.Equal(0x400, VolumeOwnership.Stat(directory)!.Value.Mode & 0x400);
        var groups = await Kubectl.RunAsync(["exec", pod, "--", "id", "-G"]);
        Assert.Contains("2000", groups.Stdout.Split(' ', StringSplitOptions.TrimEntries));

        var listed = await Kubectl.RunAsync(["get", "pv,pvc,sc"]);
        Assert.True(listed.ExitCode == 0, listed.Stderr);
        Assert.Contains("NAME", listed.Stdout, StringComparison.Ordinal);
        Assert.Matches($@"(?m)^persistentvolume/{volume.Metadata!.Name}\s+64Mi\s+RWO\s+Delete\s+Bound\s+{Ns}/{claim}\s+local-path\s+<unset>\s+\s*\d+s\s*$", listed.Stdout);
        Assert.Matches($@"(?m)^persistentvolumeclaim/{claim}\s+Bound\s+{volume.Metadata.Name}\s+64Mi\s+RWO\s+local-path\s+<unset>\s+\d+s\s*$", listed.Stdout);
        Assert.Matches(@"(?m)^storageclass\.storage\.k8s\.io/local-path \(default\)\s+rancher\.io/local-path\s+Delete\s+WaitForFirstConsumer\s+true\s+\d+s\s*$", listed.Stdout);

        // The pod goes; the StatefulSet makes a new one that finds the first pod's note.
        var deleted = await Kubectl.RunAsync(["delete", "pod", pod, "--wait=true", "--timeout=90s"], timeout: WaitLimit);
        Assert.True(deleted.ExitCode == 0, deleted.Stderr);
        var second = await WaitPodAsync(pod, p => p.Metadata?.Uid != first.Metadata.Uid && p.Status?.Phase == "Running");
        Assert.Equal("found " + first.Metadata.Uid + "\n", await WaitLogsAsync(pod, "found "));
        Assert.NotEqual(first.Metadata.Uid, second.Metadata!.Uid);

        // The StatefulSet and then its claim go: with reclaim Delete the volume and its directory follow.
        var removed = await Kubectl.RunAsync(["delete", "statefulset", set, "--wait=true", "--cascade=foreground", "--timeout=90s"], timeout: WaitLimit);
        Assert.True(removed.ExitCode == 0, removed.Stderr);
        await WaitGoneAsync<Pod>(Ns, pod);
        var claimDeleted = await Kubectl.RunAsync(["delete", "pvc", claim, "--wait=true", "--timeout=90s"], timeout: WaitLimit);
        Assert.True(claimDeleted.ExitCode == 0, claimDeleted.Stderr);
        await WaitGoneAsync<PersistentVolume>(null, volume.Metadata.Name!);
        Assert.False(Directory.Exists(directory), directory + " is still there");
    }

    [KubectlFact]
    public async Task RetainClass_ClaimDeleted_VolumeReleasedAndDirectoryKept()
    {
        var claim = "keep-" + id;
        await ApplyAsync($$"""
            apiVersion: v1
            kind: PersistentVolumeClaim
            metadata:
              name: {{claim}}
              labels: {e2e: "{{id}}"}
            spec:
              storageClassName: keep-{{id}}
              accessModes: [ReadWriteOnce]
              resources:
                requests: {storage: 8Mi}
            ---
            apiVersion: v1
            kind: Pod
            metadata:
              name: writer-{{id}}
              labels: {e2e: "{{id}}"}
            spec:
              terminationGracePeriodSeconds: 1
              restartPolicy: Never
              containers:
              - name: app
                image: {{NodeFixture.BusyboxImage}}
                imagePullPolicy: Never
                command: ["sh", "-c", "mkdir -p /data/sub && echo retained > /data/sub/note"]
                volumeMounts:
                - {name: data, mountPath: /data}
              volumes:
              - name: data
                persistentVolumeClaim:
                  claimName: {{claim}}
            """);
        await WaitPodAsync("writer-" + id, p => p.Status?.Phase == "Succeeded");
        var bound = await fixture.Client.Resource<PersistentVolumeClaim>().GetAsync(Ns, claim);
        var volumeName = bound.Spec!.VolumeName!;
        var directory = Path.Combine(StorageDir, LocalPathProvisioner.DirectoryName(bound));

        // A finished pod no longer protects the claim.
        var deleted = await Kubectl.RunAsync(["delete", "pvc", claim, "--wait=true", "--timeout=90s"], timeout: WaitLimit);
        Assert.True(deleted.ExitCode == 0, deleted.Stderr);
        for (var i = 0; i < 240; i++)
        {
            var phase = await Kubectl.RunAsync(["get", "pv", volumeName, "-o", "jsonpath={.status.phase}"]);
            if (phase.Stdout == "Released")
            {
                break;
            }

            Assert.True(i < 239, "the volume never went Released: " + phase.Stdout + phase.Stderr);
            await Task.Delay(250);
        }

        Assert.Equal("retained\n", await File.ReadAllTextAsync(Path.Combine(directory, "sub", "note")));
        var listed = await Kubectl.RunAsync(["get", "pv", volumeName]);
        Assert.Matches($@"(?m)^{volumeName}\s+8Mi\s+RWO\s+Retain\s+Released\s+{Ns}/{claim}\s+keep-{id}\s+<unset>\s+\s*\d+s\s*$", listed.Stdout);
    }

    private async Task ApplyAsync(string yaml)
    {
        var applied = await Kubectl.RunAsync(["apply", "--validate=false", "-f", "-"], stdin: yaml);
        Assert.True(applied.ExitCode == 0, applied.Stdout + applied.Stderr);
    }

    private async Task<Pod> WaitPodAsync(string name, Func<Pod, bool> predicate)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        Pod? last = null;
        while (!timeout.IsCancellationRequested)
        {
            try
            {
                last = await fixture.Client.Resource<Pod>().GetAsync(Ns, name, timeout.Token);
                if (predicate(last))
                {
                    return last;
                }
            }
            catch (StatusException e) when (e.IsNotFound())
            {
            }
            catch (OperationCanceledException)
            {
                break;
            }

            await Task.Delay(250, CancellationToken.None);
        }

        var events = await Kubectl.RunAsync(["get", "events", "-o", "wide"]);
        throw new TimeoutException($"pod {name} did not reach the expected state; last phase: {last?.Status?.Phase}; events:\n{events.Stdout}");
    }

    private async Task<string> WaitLogsAsync(string pod, string expected)
    {
        var last = new KubectlResult(-1, "", "");
        for (var i = 0; i < 120; i++)
        {
            last = await Kubectl.RunAsync(["logs", pod]);
            if (last.ExitCode == 0 && last.Stdout.Contains(expected, StringComparison.Ordinal))
            {
                return last.Stdout;
            }

            await Task.Delay(500);
        }

        throw new TimeoutException($"logs of {pod} never showed {expected}; last: {last}");
    }

    private async Task WaitGoneAsync<T>(string? ns, string name)
        where T : class, ApiMachinery.IKubernetesObject, ApiMachinery.IKubernetesKind, new()
    {
        for (var i = 0; i < 480; i++)
        {
            try
            {
                await fixture.Client.Resource<T>().GetAsync(ns, name);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
                return;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{typeof(T).Name} {name} is still there");
    }
}
