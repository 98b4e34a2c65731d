using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.Client.Reconciliation;
using Kubesharp.Cri;
using Kubesharp.Cri.V1;
using Kubesharp.Kubelet.Devices;
using Kubesharp.Kubelet.Probes;
using Kubesharp.Kubelet.Volumes;
using Microsoft.Extensions.Logging;
using CriContainerState = Kubesharp.Cri.V1.ContainerState;
using CriContainerStatus = Kubesharp.Cri.V1.ContainerStatus;

using Container = Kubesharp.Api.Core.V1.Container;

namespace Kubesharp.Kubelet.Pods;

/// <summary>
/// Moves one pod's runtime state toward its spec (level-triggered, keyed by pod UID): sandbox, images,
/// init containers in order, then containers with their restart policy and crash-loop backoff; kills
/// what must stop (deletion, deadline, failed liveness); then writes the pod's status. Everything it
/// knows about running containers comes from the runtime's labels, so a restarted agent adopts them.
/// </summary>
internal sealed partial class PodSyncer
{
    private static readonly TimeSpan SteadyResync = TimeSpan.FromSeconds(30);

    private readonly KubernetesClient client;
    private readonly IRuntimeService runtime;
    private readonly IImageService images;
    private readonly PodConfigBuilder configs;
    private readonly PodVolumes volumes;
    private readonly ProbeManager probes;
    private readonly ActionRunner actions;
    private readonly KubeletOptions options;
    private readonly string hostIp;
    private readonly TimeProvider time;
    private readonly ILogger logger;
    private readonly CrashLoopBackOff backOff;
    private readonly ConcurrentDictionary<string, Pod> pods = new();
    private readonly ConcurrentDictionary<string, (string Reason, string Message)> waiting = new();
    private readonly ConcurrentDictionary<string, string> lastStatus = new();
    private readonly ConcurrentDictionary<string, byte> adopted = new();
    private readonly ConcurrentDictionary<string, int> sandboxFailures = new();
    private readonly PodEvents events;
    private readonly DeviceRegistry? devices;

    public PodSyncer(
        KubernetesClient client,
        IRuntimeService runtime,
        IImageService images,
        PodConfigBuilder configs,
        PodVolumes volumes,
        ProbeManager probes,
        ActionRunner actions,
        KubeletOptions options,
        string hostIp,
        TimeProvider time,
        ILogger logger,
        PodEvents? events = null,
        DeviceRegistry? devices = null)
    {
        this.devices = devices;
        Metrics = new Kubesharp.Kubelet.Metrics.KubeletMetrics(runtime, time);
        this.events = events ?? new PodEvents(null);
        this.client = client;
        this.runtime = runtime;
        this.images = images;
        this.configs = configs;
        this.volumes = volumes;
        this.probes = probes;
        this.actions = actions;
        this.options = options;
        this.hostIp = hostIp;
        this.time = time;
        this.logger = logger;
        backOff = new CrashLoopBackOff(options.InitialBackOff, options.MaxBackOff, time);
    }

    /// <summary>The pods bound to this node by UID, as last seen from the API.</summary>
    public IReadOnlyDictionary<string, Pod> Pods => pods;

    /// <summary>This kubelet's metrics (running pods and containers, pod start durations).</summary>
    public Kubesharp.Kubelet.Metrics.KubeletMetrics Metrics { get; }

    public void Upsert(Pod pod)
    {
        pods[pod.Metadata!.Uid!] = pod;
        if (pod.Status?.Phase is null or "Pending")
        {
            Metrics.PodSeen(pod.Metadata.Uid!);
        }
    }

    public void Remove(Pod pod)
    {
        pods.TryRemove(pod.Metadata!.Uid!, out _);
        Metrics.PodGone(pod.Metadata.Uid!);
    }

    public Pod? Find(string @namespace, string name) =>
        pods.Values.FirstOrDefault(p => p.Metadata?.Namespace == @namespace && p.Metadata?.Name == name);

    public async Task<ReconcileResult> SyncAsync(string uid, CancellationToken cancellationToken)
    {
        var pod = pods.GetValueOrDefault(uid);
        var state = await RuntimePod.LoadAsync(runtime, uid, cancellationToken);
        if (pod is null)
        {
            await KillPodAsync(state, null, gracePeriodSeconds: 2, cancellationToken);
            await RemovePodAsync(state, cancellationToken);
            devices?.Release(uid);
            Forget(uid);
            return ReconcileResult.Done;
        }

        var ns = pod.Metadata!.Namespace!;
        var name = pod.Metadata.Name!;
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            var grace = pod.Metadata.DeletionGracePeriodSeconds ?? pod.Spec?.TerminationGracePeriodSeconds ?? 30;
            await KillPodAsync(state, pod, grace, cancellationToken);
            await RemovePodAsync(state, cancellationToken);
            // Freed before the pod object goes, so a pod scheduled onto its devices finds them free.
            devices?.Release(uid);
            try
            {
                await client.Resource<Pod>().DeleteAsync(ns, name, new DeleteOptions { GracePeriodSeconds = 0, Preconditions = new Preconditions { Uid = uid } }, cancellationToken);
                LogPodDeleted(logger, ns, name);
            }
            catch (StatusException e) when (e.IsNotFound() || e.IsConflict())
            {
            }

            Forget(uid);
            return ReconcileResult.Done;
        }

        if (pod.Status?.Phase is "Succeeded" or "Failed")
        {
            // A finished pod keeps its containers (for logs) but gives its sandbox and address back.
            await KillPodAsync(state, pod, 0, cancellationToken);
            foreach (var sandbox in state.Sandboxes.Where(s => s.State == PodSandboxState.SandboxReady))
            {
                await runtime.StopPodSandboxAsync(sandbox.Id, cancellationToken);
            }

            probes.Remove(uid);
            devices?.Release(uid);
            return ReconcileResult.Done;
        }

        if (!adopted.ContainsKey(uid))
        {
            // First sync of this pod by this agent: containers already running were started before a restart.
            foreach (var status in pod.Status?.ContainerStatuses ?? [])
            {
                if (status.ContainerID is { } id && status.Ready == true)
                {
                    probes.SeedReadiness(StripScheme(id), true);
                }
            }

            adopted[uid] = 0;
        }

        TimeSpan? requeue = SteadyResync;
        string? deadlineReason = null;
        if (pod.Spec?.ActiveDeadlineSeconds is { } deadline && pod.Status?.StartTime is { } startTime)
        {
            var left = startTime + TimeSpan.FromSeconds(deadline) - time.GetUtcNow();
            if (left <= TimeSpan.Zero)
            {
                deadlineReason = "DeadlineExceeded";
                await KillPodAsync(state, pod, pod.Spec.TerminationGracePeriodSeconds ?? 30, cancellationToken);
                state = await RuntimePod.LoadAsync(runtime, uid, cancellationToken);
            }
            else if (left < requeue)
            {
                requeue = left;
            }
        }

        if (deadlineReason is null)
        {
            var next = await StartWhatIsMissingAsync(pod, state, cancellationToken);
            if (next is { } n && n < requeue)
            {
                requeue = n;
            }

            state = await RuntimePod.LoadAsync(runtime, uid, cancellationToken);
        }

        await WriteStatusAsync(pod, state, deadlineReason, cancellationToken);
        return ReconcileResult.RequeueIn(requeue ?? SteadyResync);
    }

    /// <summary>Runs the sandbox and the containers that should run; returns when to look again (backoff).</summary>
    private async Task<TimeSpan?> StartWhatIsMissingAsync(Pod pod, RuntimePod state, CancellationToken cancellationToken)
    {
        var uid = pod.Metadata!.Uid!;
        var spec = pod.Spec!;
        var restartPolicy = spec.RestartPolicy ?? "Always";
        var qos = PodQos.ClassOf(spec);
        var sandbox = state.ReadySandbox;
        if (sandbox is null)
        {
            // Never-restarting pods whose containers all ran are done; everything else gets a (new) sandbox.
            if (restartPolicy == "Never" && state.Containers.Count > 0
                && (spec.Containers ?? []).All(c => state.Latest(c.Name!) is { State: CriContainerState.ContainerExited }))
            {
                return null;
            }

            if (state.Sandboxes.Count > 0 && !sandboxFailures.ContainsKey(uid))
            {
                events.SandboxChanged(pod);
            }

            await KillPodAsync(state, pod, 0, cancellationToken);
            foreach (var old in state.Sandboxes)
            {
                await RemoveSandboxAsync(old.Id, cancellationToken);
            }

            var attempt = state.Sandboxes.Count == 0 ? 0u : state.Sandboxes[0].Metadata.Attempt + 1;
            var sandboxConfig = configs.SandboxConfig(pod, attempt);
            Directory.CreateDirectory(sandboxConfig.LogDirectory);
            string sandboxId;
            try
            {
                sandboxId = await runtime.RunPodSandboxAsync(sandboxConfig, cancellationToken: cancellationToken);
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode != Grpc.Core.StatusCode.Cancelled)
            {
                // Retried with a growing delay (1 s doubling to a minute); the event says why the pod is not starting.
                var failures = sandboxFailures.AddOrUpdate(uid, 1, (_, n) => n + 1);
                events.FailedCreatePodSandbox(pod, e.Status.Detail);
                LogSandboxFailed(logger, pod.Metadata.Namespace!, pod.Metadata.Name!, failures, e.Status.Detail);
                return TimeSpan.FromSeconds(Math.Min(60, Math.Pow(2, Math.Min(failures - 1, 6))));
            }

            sandboxFailures.TryRemove(uid, out _);
            LogSandboxStarted(logger, pod.Metadata.Namespace!, pod.Metadata.Name!, sandboxId);
            state = await RuntimePod.LoadAsync(runtime, uid, cancellationToken);
            sandbox = state.ReadySandbox ?? throw new InvalidOperationException($"sandbox {sandboxId} is not ready");
        }

        var sandboxStatus = (await runtime.PodSandboxStatusAsync(sandbox.Id, cancellationToken: cancellationToken)).Status;
        var podIp = PodIpOf(sandboxStatus, spec);
        Dictionary<string, (string HostPath, bool ReadOnly)> podVolumes;
        try
        {
            podVolumes = await volumes.SetUpAsync(pod, podIp, hostIp, cancellationToken);
        }
        catch (VolumeSetupException e)
        {
            foreach (var c in (spec.InitContainers ?? []).Concat(spec.Containers ?? []))
            {
                waiting[Key(uid, c.Name!)] = ("ContainerCreating", "MountVolume.SetUp failed: " + e.Message);
            }

            events.FailedMount(pod, e.Message);

            return TimeSpan.FromSeconds(2);
        }

        var sandboxConfigForContainers = configs.SandboxConfig(pod, sandbox.Metadata.Attempt);
        TimeSpan? next = null;

        // Init containers, one at a time, each to success.
        foreach (var init in spec.InitContainers ?? [])
        {
            var latest = state.Latest(init.Name!, sandbox.Id);
            if (latest is { State: CriContainerState.ContainerExited, ExitCode: 0 })
            {
                continue;
            }

            if (latest is { State: CriContainerState.ContainerRunning or CriContainerState.ContainerCreated })
            {
                return next;
            }

            if (latest is { State: CriContainerState.ContainerExited } failedInit)
            {
                if (restartPolicy == "Never")
                {
                    return next;
                }

                var initKey = Key(uid, init.Name!);
                var remaining = backOff.Remaining(initKey, FromNanos(failedInit.FinishedAt));
                if (remaining > TimeSpan.Zero)
                {
                    waiting[initKey] = ("CrashLoopBackOff", $"back-off {Math.Ceiling(remaining.TotalSeconds)}s restarting failed container={init.Name} pod={pod.Metadata.Name}_{pod.Metadata.Namespace}({uid})");
                    events.BackOff(pod, init, init: true);
                    return remaining;
                }

                backOff.Next(initKey, FromNanos(failedInit.StartedAt), FromNanos(failedInit.FinishedAt));
            }

            var wait = await StartContainerAsync(pod, init, true, state, sandbox.Id, sandboxConfigForContainers, podVolumes, podIp, qos, cancellationToken);
            return wait;
        }

        var running = new Dictionary<string, (string, DateTimeOffset)>(StringComparer.Ordinal);
        foreach (var container in spec.Containers ?? [])
        {
            var latest = state.Latest(container.Name!, sandbox.Id);
            var key = Key(uid, container.Name!);
            if (latest is { State: CriContainerState.ContainerRunning })
            {
                // A failed liveness or startup probe, or a changed spec, restarts the container.
                var failedProbe = probes.FailedProbe(latest.Id);
                var specChanged = latest.Annotations.TryGetValue(CriLabels.ContainerHash, out var hash) && hash != PodConfigBuilder.Hash(container);
                if (failedProbe is not null || specChanged)
                {
                    LogRestarting(logger, pod.Metadata.Namespace!, pod.Metadata.Name!, container.Name!, failedProbe is null ? "spec changed" : $"{failedProbe} probe failed");
                    var why = failedProbe is null
                        ? $"Container {container.Name} definition changed, will be restarted"
                        : $"Container {container.Name} failed {failedProbe.ToLowerInvariant()} probe, will be restarted";
                    await StopContainerAsync(pod, container, latest.Id, spec.TerminationGracePeriodSeconds ?? 30, cancellationToken, why);
                    probes.Forget(latest.Id);
                    if (restartPolicy == "Never")
                    {
                        continue;
                    }

                    // Restarted right away by the next sync; the exit is what the backoff counts.
                    next = TimeSpan.Zero;
                    continue;
                }

                running[container.Name!] = (latest.Id, FromNanos(latest.StartedAt));
                continue;
            }

            if (latest is { State: CriContainerState.ContainerCreated })
            {
                await runtime.StartContainerAsync(latest.Id, cancellationToken);
                continue;
            }

            if (latest is { State: CriContainerState.ContainerExited } exited)
            {
                var restart = restartPolicy == "Always" || (restartPolicy == "OnFailure" && exited.ExitCode != 0);
                if (!restart)
                {
                    continue;
                }

                var remaining = backOff.Remaining(key, FromNanos(exited.FinishedAt));
                if (remaining > TimeSpan.Zero)
                {
                    waiting[key] = ("CrashLoopBackOff", $"back-off {Math.Ceiling(remaining.TotalSeconds)}s restarting failed container={container.Name} pod={pod.Metadata.Name}_{pod.Metadata.Namespace}({uid})");
                    events.BackOff(pod, container, init: false);
                    next = Min(next, remaining);
                    continue;
                }

                backOff.Next(key, FromNanos(exited.StartedAt), FromNanos(exited.FinishedAt));
            }

            var wait = await StartContainerAsync(pod, container, false, state, sandbox.Id, sandboxConfigForContainers, podVolumes, podIp, qos, cancellationToken);
            next = Min(next, wait);
        }

        probes.Update(pod, podIp ?? hostIp, running);
        return next;
    }

    /// <summary>Pulls the image, creates and starts the container, runs its postStart hook; null on success, else when to retry.</summary>
    private async Task<TimeSpan?> StartContainerAsync(
        Pod pod,
        Container container,
        bool init,
        RuntimePod state,
        string sandboxId,
        PodSandboxConfig sandboxConfig,
        IReadOnlyDictionary<string, (string HostPath, bool ReadOnly)> podVolumes,
        string? podIp,
        string qos,
        CancellationToken cancellationToken)
    {
        var uid = pod.Metadata!.Uid!;
        var key = Key(uid, container.Name!);
        string imageRef;
        try
        {
            imageRef = await EnsureImageAsync(pod, container, init, sandboxConfig, cancellationToken);
        }
        catch (ImagePullException e)
        {
            var pulls = waiting.TryGetValue(key, out var previous) && previous.Reason is "ErrImagePull" or "ImagePullBackOff";
            waiting[key] = (pulls ? "ImagePullBackOff" : e.Reason, e.Message);
            events.ImageFailed(pod, container, init, e, backingOff: pulls);
            return pulls ? TimeSpan.FromSeconds(10) : TimeSpan.FromSeconds(2);
        }

        // Keep the newest exited container of this name (lastState, logs --previous); older ones go.
        foreach (var old in state.Containers.Where(c => c.Metadata.Name == container.Name).Skip(1))
        {
            await runtime.RemoveContainerAsync(old.Id, cancellationToken);
        }

        var attempt = state.Latest(container.Name!) is { } last ? last.Metadata.Attempt + 1 : 0u;
        Cri.V1.ContainerConfig config;
        try
        {
            config = await configs.ContainerConfigAsync(pod, container, init, attempt, imageRef, podVolumes, podIp, hostIp, qos, cancellationToken);
        }
        catch (VolumeSetupException e)
        {
            waiting[key] = ("CreateContainerConfigError", e.Message);
            events.Failed(pod, container, init, e.Message);
            return TimeSpan.FromSeconds(2);
        }

        if (devices is not null)
        {
            try
            {
                if (await devices.AllocateAsync(pod, container, cancellationToken) is { } held)
                {
                    DeviceContainerConfig.Apply(config, held);
                }
            }
            catch (DeviceAllocationException e)
            {
                waiting[key] = ("CreateContainerConfigError", e.Message);
                events.Failed(pod, container, init, e.Message);
                return TimeSpan.FromSeconds(5);
            }
        }

        string containerId;
        try
        {
            containerId = await runtime.CreateContainerAsync(sandboxId, config, sandboxConfig, cancellationToken);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode != Grpc.Core.StatusCode.Cancelled)
        {
            waiting[key] = ("CreateContainerError", e.Status.Detail);
            events.Failed(pod, container, init, e.Status.Detail);
            return TimeSpan.FromSeconds(5);
        }

        events.Created(pod, container, init);
        try
        {
            await runtime.StartContainerAsync(containerId, cancellationToken);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode != Grpc.Core.StatusCode.Cancelled)
        {
            waiting[key] = ("CreateContainerError", e.Status.Detail);
            events.Failed(pod, container, init, e.Status.Detail);
            return TimeSpan.FromSeconds(5);
        }

        events.Started(pod, container, init);

        waiting.TryRemove(key, out _);
        LogContainerStarted(logger, pod.Metadata.Namespace!, pod.Metadata.Name!, container.Name!, containerId);
        if (container.Lifecycle?.PostStart is { } postStart)
        {
            var (ok, message) = await RunHandlerAsync(postStart, container, containerId, podIp, TimeSpan.FromSeconds(pod.Spec!.TerminationGracePeriodSeconds ?? 30), cancellationToken);
            if (!ok)
            {
                LogHookFailed(logger, "PostStart", pod.Metadata.Namespace!, pod.Metadata.Name!, container.Name!, message);
                events.FailedPostStartHook(pod, container, init);
                await runtime.StopContainerAsync(containerId, pod.Spec!.TerminationGracePeriodSeconds ?? 30, cancellationToken);
            }
        }

        return null;
    }

    private async Task<string> EnsureImageAsync(Pod pod, Container container, bool init, PodSandboxConfig sandboxConfig, CancellationToken cancellationToken)
    {
        var image = container.Image ?? throw new ImagePullException("InvalidImageName", "container has no image");
        var spec = new ImageSpec { Image = image };
        var policy = container.ImagePullPolicy ?? "IfNotPresent";
        if (policy != "Always")
        {
            var present = await images.ImageStatusAsync(spec, cancellationToken);
            if (present is not null)
            {
                events.AlreadyPresent(pod, container, init);
                return present.Id;
            }

            if (policy == "Never")
            {
                throw new ImagePullException("ErrImageNeverPull", $"Container image \"{image}\" is not present with pull policy of Never");
            }
        }

        var auths = await PullSecretsAsync(pod, image, cancellationToken);
        Grpc.Core.RpcException? lastError = null;
        events.Pulling(pod, container, init);
        var started = time.GetTimestamp();
        foreach (var auth in auths.DefaultIfEmpty())
        {
            try
            {
                var pulled = await images.PullImageAsync(spec, auth, sandboxConfig, cancellationToken);
                var took = time.GetElapsedTime(started);
                var size = (await images.ImageStatusAsync(new ImageSpec { Image = pulled }, cancellationToken))?.Size;
                events.Pulled(pod, container, init, took, size);
                return pulled;
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode != Grpc.Core.StatusCode.Cancelled)
            {
                lastError = e;
            }
        }

        throw new ImagePullException("ErrImagePull", $"failed to pull image \"{image}\": {lastError?.Status.Detail}", lastError?.Status.Detail);
    }

    /// <summary>Credentials for the image's registry from the pod's imagePullSecrets (dockerconfigjson or dockercfg).</summary>
    private async Task<List<AuthConfig>> PullSecretsAsync(Pod pod, string image, CancellationToken cancellationToken)
    {
        var result = new List<AuthConfig>();
        var registry = RegistryOf(image);
        foreach (var reference in pod.Spec?.ImagePullSecrets ?? [])
        {
            Secret secret;
            try
            {
                secret = await client.Resource<Secret>().GetAsync(pod.Metadata!.Namespace, reference.Name!, cancellationToken);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
                continue;
            }

            var raw = secret.Data?.GetValueOrDefault(".dockerconfigjson") ?? secret.Data?.GetValueOrDefault(".dockercfg");
            if (raw is null)
            {
                continue;
            }

            using var document = JsonDocument.Parse(raw);
            var auths = document.RootElement.TryGetProperty("auths", out var a) ? a : document.RootElement;
            if (auths.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (var entry in auths.EnumerateObject())
            {
                var host = entry.Name.Replace("https://", "", StringComparison.Ordinal).Replace("http://", "", StringComparison.Ordinal).Split('/')[0];
                if (host != registry && !(registry == "docker.io" && host is "index.docker.io" or "registry-1.docker.io"))
                {
                    continue;
                }

                var auth = new AuthConfig { ServerAddress = host };
                if (entry.Value.TryGetProperty("username", out var user))
                {
                    auth.Username = user.GetString() ?? "";
                }

                if (entry.Value.TryGetProperty("password", out var password))
                {
                    auth.Password = password.GetString() ?? "";
                }

                if (entry.Value.TryGetProperty("auth", out var encoded) && encoded.GetString() is { Length: > 0 } basic)
                {
                    var decoded = Encoding.UTF8.GetString(Convert.FromBase64String(basic));
                    var colon = decoded.IndexOf(':', StringComparison.Ordinal);
                    if (colon > 0)
                    {
                        auth.Username = decoded[..colon];
                        auth.Password = decoded[(colon + 1)..];
                    }
                }

                result.Add(auth);
            }
        }

        return result;
    }

    private static string RegistryOf(string image)
    {
        var first = image.Split('/')[0];
        return image.Contains('/', StringComparison.Ordinal) && (first.Contains('.', StringComparison.Ordinal) || first.Contains(':', StringComparison.Ordinal) || first == "localhost")
            ? first
            : "docker.io";
    }

    /// <summary>Stops every running container of the pod (preStop hooks first, then SIGTERM, SIGKILL after the grace period).</summary>
    private async Task KillPodAsync(RuntimePod state, Pod? pod, long gracePeriodSeconds, CancellationToken cancellationToken)
    {
        var runningContainers = state.Containers.Where(c => c.State is CriContainerState.ContainerRunning or CriContainerState.ContainerCreated).ToList();
        await Task.WhenAll(runningContainers.Select(async c =>
        {
            var container = pod?.Spec?.Containers?.Concat(pod.Spec.InitContainers ?? []).FirstOrDefault(s => s.Name == c.Metadata.Name);
            if (pod is not null && container is not null)
            {
                await StopContainerAsync(pod, container, c.Id, gracePeriodSeconds, cancellationToken, "Stopping container " + container.Name);
            }
            else
            {
                await runtime.StopContainerAsync(c.Id, gracePeriodSeconds, cancellationToken);
            }

            probes.Forget(c.Id);
        }));
    }

    private async Task StopContainerAsync(Pod pod, Container container, string containerId, long gracePeriodSeconds, CancellationToken cancellationToken, string why)
    {
        var init = pod.Spec?.InitContainers?.Contains(container) == true;
        events.Killing(pod, container, init, why);
        var started = time.GetTimestamp();
        if (container.Lifecycle?.PreStop is { } preStop && gracePeriodSeconds > 0)
        {
            var podIp = pod.Status?.PodIP ?? hostIp;
            var (ok, message) = await RunHandlerAsync(preStop, container, containerId, podIp, TimeSpan.FromSeconds(gracePeriodSeconds), cancellationToken);
            if (!ok)
            {
                LogHookFailed(logger, "PreStop", pod.Metadata!.Namespace!, pod.Metadata.Name!, container.Name!, message);
                events.FailedPreStopHook(pod, container, init);
            }
        }

        // The hook's time counts against the grace period, but the container always gets a moment for SIGTERM.
        var left = gracePeriodSeconds - (long)time.GetElapsedTime(started).TotalSeconds;
        try
        {
            await runtime.StopContainerAsync(containerId, gracePeriodSeconds > 0 ? Math.Max(2, left) : 0, cancellationToken);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
        {
        }
    }

    private async Task<(bool Ok, string Message)> RunHandlerAsync(LifecycleHandler handler, Container container, string containerId, string? podIp, TimeSpan timeout, CancellationToken cancellationToken)
    {
        try
        {
            if (handler.Exec is { } exec)
            {
                return await actions.RunExecAsync(containerId, exec, timeout, cancellationToken);
            }

            if (handler.HttpGet is { } httpGet)
            {
                return await actions.RunHttpGetAsync(httpGet, podIp ?? hostIp, container, timeout, cancellationToken);
            }

            if (handler.Sleep is { } sleep)
            {
                await Task.Delay(TimeSpan.FromSeconds(Math.Min(sleep.Seconds ?? 0, timeout.TotalSeconds)), time, cancellationToken);
                return (true, "");
            }

            if (handler.TcpSocket is { } tcp)
            {
                return await actions.RunTcpAsync(tcp, podIp ?? hostIp, container, timeout, cancellationToken);
            }

            return (true, "");
        }
        catch (Exception e) when (e is Grpc.Core.RpcException or InvalidOperationException or HttpRequestException)
        {
            return (false, e.Message);
        }
    }

    /// <summary>Removes the pod's sandboxes (their containers go with them) and its volumes.</summary>
    private async Task RemovePodAsync(RuntimePod state, CancellationToken cancellationToken)
    {
        foreach (var sandbox in state.Sandboxes)
        {
            await RemoveSandboxAsync(sandbox.Id, cancellationToken);
        }

        foreach (var container in state.Containers)
        {
            try
            {
                await runtime.RemoveContainerAsync(container.Id, cancellationToken);
            }
            catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
            {
            }
        }

        await volumes.TearDownAsync(state.Uid, cancellationToken);
        var logDirs = Directory.Exists(options.PodLogsDir) ? Directory.EnumerateDirectories(options.PodLogsDir, "*_" + state.Uid) : [];
        foreach (var dir in logDirs)
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private async Task RemoveSandboxAsync(string sandboxId, CancellationToken cancellationToken)
    {
        try
        {
            // Stopping tears down the network (the CNI DEL gives the address back) before removal.
            await runtime.StopPodSandboxAsync(sandboxId, cancellationToken);
            await runtime.RemovePodSandboxAsync(sandboxId, cancellationToken);
        }
        catch (Grpc.Core.RpcException e) when (e.StatusCode == Grpc.Core.StatusCode.NotFound)
        {
        }
    }

    private void Forget(string uid)
    {
        probes.Remove(uid);
        backOff.Forget(uid + "/");
        foreach (var key in waiting.Keys.Where(k => k.StartsWith(uid + "/", StringComparison.Ordinal)).ToList())
        {
            waiting.TryRemove(key, out _);
        }

        lastStatus.TryRemove(uid, out _);
        adopted.TryRemove(uid, out _);
        sandboxFailures.TryRemove(uid, out _);
    }

    private async Task WriteStatusAsync(Pod pod, RuntimePod state, string? deadlineReason, CancellationToken cancellationToken)
    {
        string? podIp = null;
        var sandbox = state.ReadySandbox;
        if (sandbox is not null)
        {
            var sandboxStatus = (await runtime.PodSandboxStatusAsync(sandbox.Id, cancellationToken: cancellationToken)).Status;
            podIp = PodIpOf(sandboxStatus, pod.Spec!);
        }
        else
        {
            podIp = pod.Status?.PodIP;
        }

        var status = PodStatusBuilder.Build(pod, state, podIp, hostIp, probes, waiting, deadlineReason, time.GetUtcNow());
        if (status.Phase == "Running")
        {
            Metrics.PodRunning(pod.Metadata!.Uid!);
        }

        var json = Encoding.UTF8.GetString(KubernetesJson.Serialize(status));
        if (lastStatus.TryGetValue(pod.Metadata!.Uid!, out var previous) && previous == json)
        {
            return;
        }

        try
        {
            await client.Resource<Pod>().PatchAsync(pod.Metadata.Namespace, pod.Metadata.Name!, PatchType.Merge, "{\"status\":" + json + "}", subresource: "status", cancellationToken: cancellationToken);
            lastStatus[pod.Metadata.Uid!] = json;
        }
        catch (StatusException e) when (e.IsNotFound())
        {
        }
    }

    private string? PodIpOf(PodSandboxStatus sandboxStatus, PodSpec spec) =>
        spec.HostNetwork == true ? hostIp : sandboxStatus.Network?.Ip is { Length: > 0 } ip ? ip : null;

    internal static string Key(string uid, string container) => uid + "/" + container;

    internal static DateTimeOffset FromNanos(long nanos) => DateTimeOffset.FromUnixTimeMilliseconds(nanos / 1_000_000);

    internal static string StripScheme(string containerId)
    {
        var index = containerId.IndexOf("://", StringComparison.Ordinal);
        return index < 0 ? containerId : containerId[(index + 3)..];
    }

    private static TimeSpan? Min(TimeSpan? a, TimeSpan? b) => a is null ? b : b is null ? a : a < b ? a : b;

    [LoggerMessage(Level = LogLevel.Information, Message = "Started sandbox {SandboxId} for pod {Namespace}/{Name}")]
    private static partial void LogSandboxStarted(ILogger logger, string @namespace, string name, string sandboxId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not create the sandbox of pod {Namespace}/{Name} (attempt {Attempt}): {Error}")]
    private static partial void LogSandboxFailed(ILogger logger, string @namespace, string name, int attempt, string error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Started container {Container} ({ContainerId}) of pod {Namespace}/{Name}")]
    private static partial void LogContainerStarted(ILogger logger, string @namespace, string name, string container, string containerId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restarting container {Container} of pod {Namespace}/{Name}: {Reason}")]
    private static partial void LogRestarting(ILogger logger, string @namespace, string name, string container, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Hook} hook of container {Container} in pod {Namespace}/{Name} failed: {Message}")]
    private static partial void LogHookFailed(ILogger logger, string hook, string @namespace, string name, string container, string message);

    [LoggerMessage(Level = LogLevel.Information, Message = "Pod {Namespace}/{Name} terminated and deleted")]
    private static partial void LogPodDeleted(ILogger logger, string @namespace, string name);
}
