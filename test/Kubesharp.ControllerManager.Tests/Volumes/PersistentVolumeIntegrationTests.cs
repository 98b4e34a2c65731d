using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.ApiMachinery;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.ApiMachinery.Meta.V1;
using Kubesharp.Client;
using Kubesharp.ControllerManager.Tests.Integration;
using Kubesharp.Scheduler;
using EventV1 = Kubesharp.Api.Core.V1.Event;

namespace Kubesharp.ControllerManager.Tests.Volumes;

/// <summary>Claims and volumes through the real API server, binder, scheduler and (simulated) local-path provisioner.</summary>
public sealed class PersistentVolumeIntegrationTests(VolumeCluster cluster) : IClassFixture<VolumeCluster>
{
    private ResourceClient<PersistentVolume> Volumes => cluster.Client.Resource<PersistentVolume>();

    private ResourceClient<PersistentVolumeClaim> Claims => cluster.Client.Resource<PersistentVolumeClaim>();

    private ResourceClient<StorageClass> Classes => cluster.Client.Resource<StorageClass>();

    private static string Unique(string prefix) => prefix + "-" + Guid.NewGuid().ToString("N")[..8];

    private static PersistentVolume NewVolume(string name, string className, string size, string reclaim = "Retain", string[]? modes = null, Dictionary<string, string>? labels = null, ObjectReference? claimRef = null) => new()
    {
        ApiVersion = "v1",
        Kind = "PersistentVolume",
        Metadata = new ObjectMeta { Name = name, Labels = labels },
        Spec = new PersistentVolumeSpec
        {
            StorageClassName = className,
            Capacity = new() { ["storage"] = Quantity.Parse(size) },
            AccessModes = [.. modes ?? ["ReadWriteOnce"]],
            PersistentVolumeReclaimPolicy = reclaim,
            HostPath = new HostPathVolumeSource { Path = "/tmp/" + name },
            ClaimRef = claimRef,
        },
    };

    private static PersistentVolumeClaim NewClaim(string ns, string name, string? className, string size, string[]? modes = null, LabelSelector? selector = null, string? volumeName = null) => new()
    {
        ApiVersion = "v1",
        Kind = "PersistentVolumeClaim",
        Metadata = new ObjectMeta { Name = name, Namespace = ns },
        Spec = new PersistentVolumeClaimSpec
        {
            StorageClassName = className,
            AccessModes = [.. modes ?? ["ReadWriteOnce"]],
            Resources = new VolumeResourceRequirements { Requests = new() { ["storage"] = Quantity.Parse(size) } },
            Selector = selector,
            VolumeName = volumeName,
        },
    };

    private static StorageClass NewClass(string name, string provisioner, string bindingMode, bool expand = false, bool isDefault = false) => new()
    {
        ApiVersion = "storage.k8s.io/v1",
        Kind = "StorageClass",
        Metadata = new ObjectMeta { Name = name, Annotations = isDefault ? new() { [VolumeAnnotations.DefaultClass] = "true" } : null },
        Provisioner = provisioner,
        VolumeBindingMode = bindingMode,
        AllowVolumeExpansion = expand ? true : null,
    };

    private static Pod NewPod(string ns, string name, params string[] claims) => new()
    {
        ApiVersion = "v1",
        Kind = "Pod",
        Metadata = new ObjectMeta { Name = name, Namespace = ns },
        Spec = new PodSpec
        {
            TerminationGracePeriodSeconds = 0,
            Containers = [new Container { Name = "main", Image = "busybox", VolumeMounts = [.. claims.Select(c => new VolumeMount { Name = c, MountPath = "/data/" + c })] }],
            Volumes = [.. claims.Select(c => new Volume { Name = c, PersistentVolumeClaim = new PersistentVolumeClaimVolumeSource { ClaimName = c } })],
        },
    };

    private Task<PersistentVolumeClaim> WaitClaimAsync(string ns, string name, Func<PersistentVolumeClaim, bool> condition, string what) =>
        ControllerCluster.EventuallyAsync(() => Claims.GetAsync(ns, name), condition, what);

    private Task<PersistentVolume> WaitVolumeAsync(string name, Func<PersistentVolume, bool> condition, string what) =>
        ControllerCluster.EventuallyAsync(() => Volumes.GetAsync(null, name), condition, what);

    private async Task<bool> GoneAsync<T>(ResourceClient<T> client, string? ns, string name)
        where T : class, IKubernetesObject, IKubernetesKind, new()
    {
        try
        {
            await client.GetAsync(ns, name);
            return false;
        }
        catch (StatusException e) when (e.IsNotFound())
        {
            return true;
        }
    }

    private Task WaitGoneAsync<T>(ResourceClient<T> client, string? ns, string name, string what)
        where T : class, IKubernetesObject, IKubernetesKind, new() =>
        ControllerCluster.EventuallyAsync(() => GoneAsync(client, ns, name), gone => gone, what);

    private async Task DeleteVolumesAsync(params string[] names)
    {
        foreach (var name in names)
        {
            try
            {
                await Volumes.DeleteAsync(null, name);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
            }
        }

        foreach (var name in names)
        {
            await WaitGoneAsync(Volumes, null, name, $"volume {name} to go (its protection finalizer removed)");
        }
    }

    [Fact]
    public async Task StaticVolumes_ClaimBindsSmallestFit_AndDeletedClaimReleasesRetainedVolume()
    {
        var ns = await cluster.NewNamespaceAsync();
        var className = Unique("manual");
        var (big, small, tiny) = (Unique("pv-big"), Unique("pv-small"), Unique("pv-tiny"));
        await Volumes.CreateAsync(NewVolume(big, className, "5Gi"));
        await Volumes.CreateAsync(NewVolume(small, className, "2Gi"));
        await Volumes.CreateAsync(NewVolume(tiny, className, "1Gi"));
        var created = await Volumes.GetAsync(null, big);
        Assert.Contains("kubernetes.io/pv-protection", created.Metadata!.Finalizers!);
        Assert.Equal("Filesystem", created.Spec!.VolumeMode);

        var claim = await Claims.CreateAsync(NewClaim(ns, "data", className, "1500Mi"));
        Assert.Contains("kubernetes.io/pvc-protection", claim.Metadata!.Finalizers!);
        Assert.Equal("Pending", claim.Status?.Phase);

        var bound = await WaitClaimAsync(ns, "data", c => c.Status?.Phase == "Bound", "the claim to bind");
        Assert.Equal(small, bound.Spec!.VolumeName);
        Assert.Equal("yes", bound.Metadata!.Annotations![VolumeAnnotations.BindCompleted]);
        Assert.Equal("yes", bound.Metadata.Annotations[VolumeAnnotations.BoundByController]);
        Assert.Equal(Quantity.Parse("2Gi"), bound.Status!.Capacity!["storage"]);
        Assert.Equal(["ReadWriteOnce"], bound.Status.AccessModes!);
        var volume = await WaitVolumeAsync(small, v => v.Status?.Phase == "Bound", "the chosen volume to be Bound");
        Assert.Equal(claim.Metadata.Uid, volume.Spec!.ClaimRef!.Uid);
        Assert.Equal("yes", volume.Metadata!.Annotations![VolumeAnnotations.BoundByController]);
        await WaitVolumeAsync(big, v => v.Status?.Phase == "Available", "the other volume to stay Available");

        await Claims.DeleteAsync(ns, "data");
        await WaitGoneAsync(Claims, ns, "data", "the unused claim to go");
        var released = await WaitVolumeAsync(small, v => v.Status?.Phase == "Released", "the retained volume to be Released");
        Assert.Equal(claim.Metadata.Uid, released.Spec!.ClaimRef!.Uid);
        Assert.NotNull(released.Status!.LastPhaseTransitionTime);

        await DeleteVolumesAsync(big, small, tiny);
    }

    [Fact]
    public async Task PreBoundClaimAndVolume_BindToEachOther_AndMismatchesStayPending()
    {
        var ns = await cluster.NewNamespaceAsync();
        var className = Unique("manual");
        var (named, reserved, labelled) = (Unique("pv-named"), Unique("pv-reserved"), Unique("pv-labelled"));
        await Volumes.CreateAsync(NewVolume(named, className, "1Gi"));
        await Volumes.CreateAsync(NewVolume(reserved, className, "10Gi", claimRef: new ObjectReference { Namespace = ns, Name = "wants-any" }));
        await Volumes.CreateAsync(NewVolume(labelled, className, "1Gi", modes: ["ReadWriteMany"], labels: new() { ["tier"] = "gold" }));

        // volumeName on the claim, a claimRef on the volume, a selector; and a claim asking for a mode no volume has.
        await Claims.CreateAsync(NewClaim(ns, "wants-named", className, "1Gi", volumeName: named));
        await Claims.CreateAsync(NewClaim(ns, "wants-any", className, "1Gi"));
        await Claims.CreateAsync(NewClaim(ns, "wants-gold", className, "1Gi", modes: ["ReadWriteMany"], selector: new LabelSelector { MatchLabels = new() { ["tier"] = "gold" } }));
        await Claims.CreateAsync(NewClaim(ns, "wants-rox", className, "1Gi", modes: ["ReadOnlyMany"]));

        var first = await WaitClaimAsync(ns, "wants-named", c => c.Status?.Phase == "Bound", "the claim naming its volume to bind");
        Assert.Equal(named, first.Spec!.VolumeName);
        Assert.False(first.Metadata!.Annotations!.ContainsKey(VolumeAnnotations.BoundByController));
        var second = await WaitClaimAsync(ns, "wants-any", c => c.Status?.Phase == "Bound", "the claim a volume reserved to bind");
        Assert.Equal(reserved, second.Spec!.VolumeName);
        var reservedVolume = await Volumes.GetAsync(null, reserved);
        Assert.False(reservedVolume.Metadata!.Annotations?.ContainsKey(VolumeAnnotations.BoundByController) ?? false);
        var third = await WaitClaimAsync(ns, "wants-gold", c => c.Status?.Phase == "Bound", "the claim with a selector to bind");
        Assert.Equal(labelled, third.Spec!.VolumeName);
        var fourth = await Claims.GetAsync(ns, "wants-rox");
        Assert.Equal("Pending", fourth.Status?.Phase);
        Assert.Null(fourth.Spec!.VolumeName);

        await cluster.Client.Resource<Namespace>().DeleteAsync(null, ns);
        await DeleteAfterReleaseAsync(named, reserved, labelled);
    }

    private async Task DeleteAfterReleaseAsync(params string[] names)
    {
        foreach (var name in names)
        {
            await WaitVolumeAsync(name, v => v.Status?.Phase == "Released", $"volume {name} to be released");
        }

        await DeleteVolumesAsync(names);
    }

    [Fact]
    public async Task DeleteReclaim_WithoutProvisioner_VolumeFails()
    {
        var ns = await cluster.NewNamespaceAsync();
        var className = Unique("manual");
        var name = Unique("pv-delete");
        await Volumes.CreateAsync(NewVolume(name, className, "1Gi", reclaim: "Delete"));
        await Claims.CreateAsync(NewClaim(ns, "data", className, "1Gi"));
        await WaitClaimAsync(ns, "data", c => c.Status?.Phase == "Bound", "the claim to bind");

        await Claims.DeleteAsync(ns, "data");
        var failed = await WaitVolumeAsync(name, v => v.Status?.Phase == "Failed", "the volume nothing can delete to fail");
        Assert.Equal("VolumeFailedDelete", failed.Status!.Reason);
        Assert.Equal($"error getting deleter volume plugin for volume \"{name}\": no deletable volume plugin matched", failed.Status.Message);
        await DeleteVolumesAsync(name);
    }

    [Fact]
    public async Task ClaimInUse_IsKeptUntilItsPodGoes()
    {
        var ns = await cluster.NewNamespaceAsync();
        var className = Unique("manual");
        var name = Unique("pv-used");
        await Volumes.CreateAsync(NewVolume(name, className, "1Gi"));
        await Claims.CreateAsync(NewClaim(ns, "data", className, "1Gi"));
        await WaitClaimAsync(ns, "data", c => c.Status?.Phase == "Bound", "the claim to bind");
        await cluster.Client.Resource<Pod>().CreateAsync(NewPod(ns, "user", "data"));
        await ControllerCluster.EventuallyAsync(() => cluster.Client.Resource<Pod>().GetAsync(ns, "user"), p => p.Status?.Phase == "Running", "the pod to run");

        await Claims.DeleteAsync(ns, "data");
        var terminating = await Claims.GetAsync(ns, "data");
        Assert.NotNull(terminating.Metadata!.DeletionTimestamp);
        Assert.Contains("kubernetes.io/pvc-protection", terminating.Metadata.Finalizers!);

        // A bound volume cannot be deleted either while its claim holds it.
        await Volumes.DeleteAsync(null, name);
        Assert.Contains("kubernetes.io/pv-protection", (await Volumes.GetAsync(null, name)).Metadata!.Finalizers!);

        await cluster.Client.Resource<Pod>().DeleteAsync(ns, "user");
        await WaitGoneAsync(Claims, ns, "data", "the claim to go once its pod is gone");
        await WaitGoneAsync(Volumes, null, name, "the volume to go once released");
    }

    [Fact]
    public async Task WaitForFirstConsumer_ProvisionedOnThePodsNode_GrowsAndIsDeletedWithItsClaim()
    {
        var ns = await cluster.NewNamespaceAsync();
        var className = Unique("local");
        await Classes.CreateAsync(NewClass(className, VolumeAnnotations.LocalPathProvisioner, VolumeAnnotations.WaitForFirstConsumer, expand: true));
        await Claims.CreateAsync(NewClaim(ns, "data", className, "1Gi"));
        await ControllerCluster.EventuallyAsync(
            async () => (await cluster.Client.Resource<EventV1>().ListAsync(ns)).Items,
            events => events.Any(e => e.Reason == "WaitForFirstConsumer" && e.Message == "waiting for first consumer to be created before binding"),
            "the claim to wait for its first consumer");
        Assert.Equal("Pending", (await Claims.GetAsync(ns, "data")).Status?.Phase);

        await cluster.Client.Resource<Pod>().CreateAsync(NewPod(ns, "user", "data"));
        var pod = await ControllerCluster.EventuallyAsync(() => cluster.Client.Resource<Pod>().GetAsync(ns, "user"), p => p.Status?.Phase == "Running", "the pod to run");
        var claim = await WaitClaimAsync(ns, "data", c => c.Status?.Phase == "Bound", "the claim to bind to a provisioned volume");
        Assert.Equal(pod.Spec!.NodeName, claim.Metadata!.Annotations![VolumeAnnotations.SelectedNode]);
        Assert.Equal(VolumeAnnotations.LocalPathProvisioner, claim.Metadata.Annotations[VolumeAnnotations.StorageProvisioner]);
        var volumeName = claim.Spec!.VolumeName!;
        Assert.Equal("pvc-" + claim.Metadata.Uid, volumeName);
        var volume = await Volumes.GetAsync(null, volumeName);
        Assert.Equal(VolumeAnnotations.LocalPathProvisioner, volume.Metadata!.Annotations![VolumeAnnotations.ProvisionedBy]);
        Assert.Equal([pod.Spec.NodeName!], volume.Spec!.NodeAffinity!.Required!.NodeSelectorTerms![0].MatchExpressions![0].Values!);
        Assert.Equal("Delete", volume.Spec.PersistentVolumeReclaimPolicy);

        // Expansion: the class allows it, so the volume and then the claim's capacity grow.
        await Claims.PatchAsync(ns, "data", PatchType.Merge, "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"3Gi\"}}}}");
        await WaitClaimAsync(ns, "data", c => c.Status?.Capacity?["storage"] == Quantity.Parse("3Gi"), "the claim's capacity to grow");
        Assert.Equal(Quantity.Parse("3Gi"), (await Volumes.GetAsync(null, volumeName)).Spec!.Capacity!["storage"]);
        var shrink = await Assert.ThrowsAsync<StatusException>(() => Claims.PatchAsync(ns, "data", PatchType.Merge, "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"2Gi\"}}}}"));
        Assert.Equal(422, shrink.Code);
        Assert.Contains("spec.resources.requests.storage: Forbidden: field can not be less than status.capacity", shrink.Message, StringComparison.Ordinal);

        await cluster.Client.Resource<Pod>().DeleteAsync(ns, "user");
        await Claims.DeleteAsync(ns, "data");
        await WaitGoneAsync(Volumes, null, volumeName, "the provisioned volume to be deleted with its claim");
        await Classes.DeleteAsync(null, className);
    }

    [Fact]
    public async Task Expansion_RefusedWithoutClassSupport_AndOnUnboundClaims()
    {
        var ns = await cluster.NewNamespaceAsync();
        var className = Unique("manual");
        await Classes.CreateAsync(NewClass(className, VolumeAnnotations.NoProvisioner, "Immediate"));
        var name = Unique("pv-fixed");
        await Volumes.CreateAsync(NewVolume(name, className, "5Gi"));
        await Claims.CreateAsync(NewClaim(ns, "data", className, "1Gi"));
        await Claims.CreateAsync(NewClaim(ns, "pending", className, "50Gi"));
        await WaitClaimAsync(ns, "data", c => c.Status?.Phase == "Bound", "the claim to bind");

        var refused = await Assert.ThrowsAsync<StatusException>(() => Claims.PatchAsync(ns, "data", PatchType.Merge, "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"6Gi\"}}}}"));
        Assert.Equal(403, refused.Code);
        Assert.Equal("persistentvolumeclaims \"data\" is forbidden: only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize", refused.Message);

        var unbound = await Assert.ThrowsAsync<StatusException>(() => Claims.PatchAsync(ns, "pending", PatchType.Merge, "{\"spec\":{\"resources\":{\"requests\":{\"storage\":\"60Gi\"}}}}"));
        Assert.Equal(422, unbound.Code);
        Assert.Contains("spec: Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims", unbound.Message, StringComparison.Ordinal);

        await cluster.Client.Resource<Namespace>().DeleteAsync(null, ns);
        await DeleteAfterReleaseAsync(name);
        await Classes.DeleteAsync(null, className);
    }

    [Fact]
    public async Task UnboundImmediateClaim_KeepsPodPending_AndTheVerdictNamesIt()
    {
        var ns = await cluster.NewNamespaceAsync();
        var className = Unique("manual");
        await Classes.CreateAsync(NewClass(className, VolumeAnnotations.NoProvisioner, "Immediate"));
        await Claims.CreateAsync(NewClaim(ns, "nothing-fits", className, "1Gi"));
        await cluster.Client.Resource<Pod>().CreateAsync(NewPod(ns, "waiting", "nothing-fits"));

        var pod = await ControllerCluster.EventuallyAsync(
            () => cluster.Client.Resource<Pod>().GetAsync(ns, "waiting"),
            p => p.Status?.Conditions?.Any(c => c.Type == "PodScheduled" && c.Status == "False") == true,
            "the pod to be unschedulable");
        var condition = pod.Status!.Conditions!.First(c => c.Type == "PodScheduled");
        Assert.Contains("pod has unbound immediate PersistentVolumeClaims", condition.Message, StringComparison.Ordinal);
        Assert.Contains("VolumeBinding: pod has unbound immediate PersistentVolumeClaims (claims: nothing-fits)", pod.Metadata!.Annotations![SchedulingVerdict.AnnotationKey], StringComparison.Ordinal);

        // A volume that fits arrives: the claim binds and the pod is scheduled.
        var name = Unique("pv-late");
        await Volumes.CreateAsync(NewVolume(name, className, "1Gi"));
        await ControllerCluster.EventuallyAsync(() => cluster.Client.Resource<Pod>().GetAsync(ns, "waiting"), p => p.Status?.Phase == "Running", "the pod to run once its claim is bound");

        await cluster.Client.Resource<Namespace>().DeleteAsync(null, ns);
        await DeleteAfterReleaseAsync(name);
        await Classes.DeleteAsync(null, className);
    }

    [Fact]
    public async Task DefaultClass_FillsClaimsWithoutAClass_ButNotAnExplicitEmptyOne()
    {
        var ns = await cluster.NewNamespaceAsync();
        var className = Unique("default");
        await Classes.CreateAsync(NewClass(className, VolumeAnnotations.LocalPathProvisioner, VolumeAnnotations.WaitForFirstConsumer, isDefault: true));
        try
        {
            var defaulted = await Claims.CreateAsync(NewClaim(ns, "defaulted", null, "1Gi"));
            Assert.Equal(className, defaulted.Spec!.StorageClassName);
            Assert.Equal("Filesystem", defaulted.Spec.VolumeMode);
            var explicitEmpty = await Claims.CreateAsync(NewClaim(ns, "no-class", string.Empty, "1Gi"));
            Assert.Equal(string.Empty, explicitEmpty.Spec!.StorageClassName);
        }
        finally
        {
            await Classes.DeleteAsync(null, className);
            await cluster.Client.Resource<Namespace>().DeleteAsync(null, ns);
        }
    }

    [Fact]
    public async Task Validation_RefusesClaimsAndVolumesWithoutSizeOrModes()
    {
        var ns = await cluster.NewNamespaceAsync();
        var claim = NewClaim(ns, "bad", "x", "1Gi");
        claim.Spec!.AccessModes = null;
        claim.Spec.Resources = null;
        var error = await Assert.ThrowsAsync<StatusException>(() => Claims.CreateAsync(claim));
        Assert.Equal(422, error.Code);
        Assert.Contains("spec.accessModes: Required value: at least 1 access mode is required", error.Message, StringComparison.Ordinal);
        Assert.Contains("spec.resources[storage]: Required value", error.Message, StringComparison.Ordinal);

        var volume = NewVolume(Unique("pv-bad"), "x", "1Gi");
        volume.Spec!.HostPath = null;
        volume.Spec.Capacity = null;
        var volumeError = await Assert.ThrowsAsync<StatusException>(() => Volumes.CreateAsync(volume));
        Assert.Contains("spec.capacity: Required value", volumeError.Message, StringComparison.Ordinal);
        Assert.Contains("spec: Required value: must specify a volume type", volumeError.Message, StringComparison.Ordinal);
        await cluster.Client.Resource<Namespace>().DeleteAsync(null, ns);
    }
}
