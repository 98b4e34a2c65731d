using Kubesharp.Storage;

namespace Kubesharp.ApiServer.Encryption;

/// <summary>A stored value could not be read or written under the encryption configuration (a missing key, a corrupt value).</summary>
public sealed class EncryptionException(string key, string message, Exception? innerException = null)
    : StorageException($"unable to transform key \"{key}\": {message}", innerException)
{
    public string Key { get; } = key;
}
