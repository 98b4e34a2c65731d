using Kubesharp.Api.Core.V1;
using Kubesharp.Api.Storage.V1;

namespace Kubesharp.Scheduler.Framework;

/// <summary>The claims, volumes and classes the VolumeBinding plugin reads (the scheduler's informer caches).</summary>
public interface IVolumeLookup
{
    PersistentVolumeClaim? Claim(string @namespace, string name);

    PersistentVolume? Volume(string name);

    StorageClass? Class(string name);

    IReadOnlyList<PersistentVolume> Volumes();
}
