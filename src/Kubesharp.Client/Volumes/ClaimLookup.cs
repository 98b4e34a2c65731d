using Kubesharp.Api.Core.V1;
using Kubesharp.ApiMachinery.Errors;
using Kubesharp.Client.Informers;

namespace Kubesharp.Client.Volumes;

/// <summary>
/// How the volume binder and the provisioners find claims: the work-queue keys they share ("claim:NS/NAME" and
/// "volume:NAME"), a claim by key from the informer cache, and the claim a volume's claimRef names. A claimRef is
/// trusted only with a matching UID, and a cache miss is asked of the API, since a cache that has not seen a new
/// claim yet must never make a volume look released.
/// </summary>
public sealed class ClaimLookup(Lister<PersistentVolumeClaim> claims, ResourceClient<PersistentVolumeClaim> client)
{
    public const string ClaimPrefix = "claim:";
    public const string VolumePrefix = "volume:";

    public static string ClaimKey(PersistentVolumeClaim claim) => ClaimPrefix + ObjectKey.Of(claim);

    public static string ClaimKey(string? @namespace, string name) => ClaimPrefix + ObjectKey.Of(@namespace ?? "default", name);

    public static string VolumeKey(string name) => VolumePrefix + name;

    /// <summary>Whether a queue key names a claim (the rest of it is then "NS/NAME") or else a volume (its name).</summary>
    public static bool IsClaimKey(string key, out string rest)
    {
        ArgumentNullException.ThrowIfNull(key);
        var isClaim = key.StartsWith(ClaimPrefix, StringComparison.Ordinal);
        rest = isClaim ? key[ClaimPrefix.Length..] : key.StartsWith(VolumePrefix, StringComparison.Ordinal) ? key[VolumePrefix.Length..] : key;
        return isClaim;
    }

    /// <summary>A claim by its "NS/NAME" from the cache.</summary>
    public PersistentVolumeClaim? Get(string key)
    {
        var (ns, name) = ObjectKey.Split(key);
        return claims.Get(ns, name);
    }

    /// <summary>The claim a volume is bound to (same namespace, name and UID), from the cache or else the API; null when it is gone.</summary>
    public async Task<PersistentVolumeClaim?> BoundToAsync(PersistentVolume volume, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(volume);
        if (volume.Spec?.ClaimRef is not { Name: { Length: > 0 } name, Uid: { Length: > 0 } uid } reference)
        {
            return null;
        }

        var claim = claims.Get(reference.Namespace ?? "default", name);
        if (claim?.Metadata?.Uid != uid)
        {
            try
            {
                claim = await client.GetAsync(reference.Namespace ?? "default", name, cancellationToken).ConfigureAwait(false);
            }
            catch (StatusException e) when (e.IsNotFound())
            {
                return null;
            }
        }

        return claim.Metadata?.Uid == uid ? claim : null;
    }
}
