using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;
using Kubesharp.Client.Informers;
using Kubesharp.Scheduler.Framework;

namespace Kubesharp.Scheduler;

/// <summary>The VolumeBinding plugin's view of claims, volumes and classes: the scheduler's informer caches.</summary>
internal sealed class InformerVolumeLookup(SharedInformer<PersistentVolumeClaim> claims, SharedInformer<PersistentVolume> volumes, SharedInformer<StorageClass> classes) : IVolumeLookup
{
    public PersistentVolumeClaim? Claim(string @namespace, string name) => claims.Lister.Get(@namespace, name);

    public PersistentVolume? Volume(string name) => volumes.Lister.Get(null, name);

    public StorageClass? Class(string name) => name.Length == 0 ? null : classes.Lister.Get(null, name);

    public IReadOnlyList<PersistentVolume> Volumes() => volumes.Lister.List();
}
