using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Kubesharp.ApiServer.Security.ServiceAccountTokens;

/// <summary>
/// The key that signs service-account tokens, kept as DATA/server/tls/service.key and created once. A new key is
/// ECDSA P-256 (ES256): made in well under a millisecond, where an RSA-2048 key took a large and random share of a
/// first start. An RSA key written by an earlier version is kept and signs RS256, as upstream accepts either kind.
/// Servers that share the file accept each other's tokens.
/// </summary>
internal sealed class ServiceAccountSigningKey : IDisposable
{
    private readonly ECDsa? _ecdsa;
    private readonly RSA? _rsa;

    private ServiceAccountSigningKey(ECDsa? ecdsa, RSA? rsa)
    {
        _ecdsa = ecdsa;
        _rsa = rsa;
        Algorithm = ecdsa is not null ? "ES256" : "RS256";
        // As upstream: the key id is the unpadded base64url SHA-256 of the DER public key, so every server names a key alike.
        KeyId = Base64Url.EncodeToString(SHA256.HashData(ecdsa?.ExportSubjectPublicKeyInfo() ?? rsa!.ExportSubjectPublicKeyInfo()));
    }

    public string KeyId { get; }

    /// <summary>The JWS algorithm of the tokens this key signs: ES256 for an ECDSA key, RS256 for an RSA one.</summary>
    public string Algorithm { get; }

    public static string PathIn(string dataDir) => Path.Combine(dataDir, "server", "tls", "service.key");

    public static ServiceAccountSigningKey LoadOrCreate(string dataDir)
    {
        var path = PathIn(dataDir);
        if (File.Exists(path))
        {
            return Load(File.ReadAllText(path));
        }

        using var created = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var pem = created.ExportECPrivateKeyPem();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // Written aside and renamed: a second server starting on the same directory never reads half a key.
        var temporary = path + "." + Environment.ProcessId + ".tmp";
        File.WriteAllText(temporary, pem);
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
            pem = File.ReadAllText(path);
        }

        return Load(pem);
    }

    /// <summary>An RSA or EC private key in PEM (PKCS#1, SEC 1 or PKCS#8).</summary>
    private static ServiceAccountSigningKey Load(string pem)
    {
        var rsa = RSA.Create();
        try
        {
            rsa.ImportFromPem(pem);
            return new ServiceAccountSigningKey(null, rsa);
        }
        catch (Exception e) when (e is ArgumentException or CryptographicException)
        {
            rsa.Dispose();
        }

        var ecdsa = ECDsa.Create();
        try
        {
            ecdsa.ImportFromPem(pem);
            if (ecdsa.KeySize != 256)
            {
                throw new CryptographicException($"the service-account key is an EC key of {ecdsa.KeySize} bits; only P-256 (ES256) is used");
            }

            return new ServiceAccountSigningKey(ecdsa, null);
        }
        catch
        {
            ecdsa.Dispose();
            throw;
        }
    }

    /// <summary>The JWS signature: PKCS#1 v1.5 for RS256, the fixed-size r‖s form of RFC 7518 for ES256.</summary>
    public byte[] Sign(ReadOnlySpan<byte> data) => _ecdsa is not null
        ? _ecdsa.SignData(data, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
        : _rsa!.SignData(data, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    public bool Verify(ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature) => _ecdsa is not null
        ? _ecdsa.VerifyData(data, signature, HashAlgorithmName.SHA256, DSASignatureFormat.IeeeP1363FixedFieldConcatenation)
        : _rsa!.VerifyData(data, signature, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

    /// <summary>The public key as a JSON Web Key (RFC 7517, RFC 7518 section 6).</summary>
    public JsonObject ToJwk()
    {
        if (_ecdsa is not null)
        {
            var point = _ecdsa.ExportParameters(includePrivateParameters: false).Q;
            return new JsonObject
            {
                ["use"] = "sig",
                ["kty"] = "EC",
                ["kid"] = KeyId,
                ["crv"] = "P-256",
                ["alg"] = Algorithm,
                ["x"] = Base64Url.EncodeToString(point.X),
                ["y"] = Base64Url.EncodeToString(point.Y),
            };
        }

        var parameters = _rsa!.ExportParameters(includePrivateParameters: false);
        return new JsonObject
        {
            ["use"] = "sig",
            ["kty"] = "RSA",
            ["kid"] = KeyId,
            ["alg"] = Algorithm,
            ["n"] = Base64Url.EncodeToString(parameters.Modulus),
            ["e"] = Base64Url.EncodeToString(parameters.Exponent),
        };
    }

    public void Dispose()
    {
        _ecdsa?.Dispose();
        _rsa?.Dispose();
    }
}
