using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Security.ServiceAccountTokens;

/// <summary>
/// The RSA key that signs service-account tokens (RS256), kept as DATA/server/tls/service.key and created once.
/// Servers that share the file accept each other's tokens.
/// </summary>
internal sealed class ServiceAccountSigningKey : IDisposable
{
    private readonly RSA _key;

    private ServiceAccountSigningKey(RSA key)
    {
        _key = key;
        // As upstream: the key id is the unpadded base64url SHA-256 of the DER public key, so every server names a key alike.
        KeyId = Base64Url.EncodeToString(SHA256.HashData(key.ExportSubjectPublicKeyInfo()));
    }

    public string KeyId { get; }

    public static string PathIn(string dataDir) => Path.Combine(dataDir, "server", "tls", "service.key");

    public static ServiceAccountSigningKey LoadOrCreate(string dataDir)
    {
        var path = PathIn(dataDir);
        var rsa = RSA.Create();
        if (File.Exists(path))
        {
            rsa.ImportFromPem(File.ReadAllText(path));
            return new ServiceAccountSigningKey(rsa);
        }

        rsa.KeySize = 2048;
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written aside and renamed: a second server starting on the same directory never reads half a key.
        var temporary = path + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(temporary, rsa.ExportRSAPrivateKeyPem());
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        try
        {
            File.Move(temporary, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            File.Delete(temporary);
            rsa.ImportFromPem(File.ReadAllText(path));
        }

        return new ServiceAccountSigningKey(rsa);
    }

    public byte[] Sign(ReadOnlySpan<byte> data) => _key.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) =>
        _key.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>The public key as a JSON Web Key (RFC 7517).</summary>
    public JsonObject ToJwk()
    {
        var parameters = _key.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["use"] = "sig",
            ["kty"] = "RSA",
            ["kid"] = KeyId,
            ["alg"] = "RS256",
            ["n"] = Base64Url.EncodeToString(parameters.Modulus),
            ["e"] = Base64Url.EncodeToString(parameters.Exponent),
        };
    }

    public void Dispose() => _key.Dispose();
}
