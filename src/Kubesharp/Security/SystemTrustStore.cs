using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace Kubesharp.Security;

/// <summary>
/// The system's trusted certificates as .NET reads them on Linux: every certificate in OpenSSL's bundle file and every
/// file in its certificate directory, loaded on the first chain build (which every TLS server context makes) and again
/// every few minutes. On Debian the directory holds the bundle's certificates twice more (a link per certificate and
/// one per hash, besides the bundle itself), so most of that start-up work repeats itself.
/// </summary>
internal static partial class SystemTrustStore
{
    /// <summary>Where, under a data directory, the certificates the default directory adds to the bundle are kept.</summary>
    public const string StateDirectoryName = "system-trust";

    private const string DirectoryVariable = "SSL_CERT_DIR";
    private const string FileVariable = "SSL_CERT_FILE";
    private const string CertificateLabel = "CERTIFICATE";
    private const string TrustedCertificateLabel = "TRUSTED CERTIFICATE";

    /// <summary>
    /// Has this process's OpenSSL lookups read each trusted certificate once: the bundle, and instead of the default
    /// directory a directory of this node's own (<paramref name="stateDirectory"/>) holding only what the default
    /// directory adds to the bundle (no directory at all when it adds nothing). The trusted set is the same, with a
    /// third of the parsing. Nothing changes when <c>SSL_CERT_DIR</c> names another directory, or the directory holds
    /// a file that is not PEM certificates. A certificate added to the default directory alone is seen at the next
    /// start (one added the usual way, to the bundle too, is seen as before). Child processes keep their environment.
    /// </summary>
    public static void ReadEachCertificateOnce(string stateDirectory)
    {
        try
        {
            // Read through the managed environment: that copy is what child processes get, and it stays as it is.
            var bundle = Environment.GetEnvironmentVariable(FileVariable) is { Length: > 0 } named ? named : Marshal.PtrToStringUTF8(DefaultCertificateFile());
            var directory = Marshal.PtrToStringUTF8(DefaultCertificateDirectory());
            if (bundle is null || directory is null || !File.Exists(bundle) || !Directory.Exists(directory)
                || (Environment.GetEnvironmentVariable(DirectoryVariable) is { } set
                    && (set.Length == 0 || set.Contains(Path.PathSeparator, StringComparison.Ordinal) || Resolved(set) != Resolved(directory)))
                || !TryFindAdditions(directory, bundle, out var additions))
            {
                return;
            }

            var lookup = string.Empty;
            if (additions.Count > 0)
            {
                Directory.CreateDirectory(stateDirectory);
                var file = Path.Combine(stateDirectory, "additions.pem");
                File.WriteAllText(file + ".tmp", string.Concat(additions));
                File.Move(file + ".tmp", file, overwrite: true);
                lookup = stateDirectory;
            }

            _ = SetEnvironment(DirectoryVariable, lookup, overwrite: 1);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or DllNotFoundException or EntryPointNotFoundException)
        {
            // Reading both stays the default.
        }
    }

    private static string Resolved(string directory) =>
        new DirectoryInfo(directory).ResolveLinkTarget(returnFinalTarget: true)?.FullName ?? Path.GetFullPath(directory).TrimEnd('/');

    /// <summary>
    /// The certificates (as PEM) that files in <paramref name="directory"/> hold and <paramref name="bundle"/> does not;
    /// false when a file holds anything else .NET would read.
    /// </summary>
    internal static bool TryFindAdditions(string directory, string bundle, out List<string> additions)
    {
        additions = [];
        var known = new HashSet<string>(StringComparer.Ordinal);
        if (!TryReadCertificates(bundle, known))
        {
            return false;
        }

        var found = new HashSet<string>(StringComparer.Ordinal);
        // Most entries are links, several to one file (a name and a hash): each file is read once.
        var read = new HashSet<string>(StringComparer.Ordinal) { Path.GetFullPath(bundle), File.ResolveLinkTarget(bundle, returnFinalTarget: true)?.FullName ?? bundle };
        foreach (var file in Directory.EnumerateFiles(directory))
        {
            if (!read.Add(File.ResolveLinkTarget(file, returnFinalTarget: true)?.FullName ?? file))
            {
                continue;
            }

            found.Clear();
            if (!TryReadCertificates(file, found))
            {
                return false;
            }

            foreach (var body in found)
            {
                if (known.Add(body))
                {
                    additions.Add(PemEncoding.WriteString(CertificateLabel, Convert.FromBase64String(body)) + "\n");
                }
            }
        }

        return true;
    }

    /// <summary>
    /// Adds each certificate block of the file (its DER, as canonical base64) to <paramref name="certificates"/>. False
    /// for a file .NET might read something else from: another kind of PEM block, or no block at all (DER).
    /// Trusted-certificate blocks are passed over, as .NET passes over them. The file is read a line at a time: the
    /// bundle as one string would be a large object, and a process's first large objects set off a full collection
    /// while it starts.
    /// </summary>
    private static bool TryReadCertificates(string path, HashSet<string> certificates)
    {
        using var reader = new StreamReader(path);
        var block = new StringBuilder();
        var blocks = 0;
        var onlyWhitespace = true;
        while (reader.ReadLine() is { } line)
        {
            if (block.Length == 0 && !line.Contains("-----BEGIN ", StringComparison.Ordinal))
            {
                onlyWhitespace &= string.IsNullOrWhiteSpace(line);
                continue;
            }

            block.Append(line).Append('\n');
            if (!line.Contains("-----END ", StringComparison.Ordinal))
            {
                continue;
            }

            var text = block.ToString();
            block.Clear();
            if (!PemEncoding.TryFind(text, out var fields))
            {
                // Text that only looks like a block, passed over as a search of the whole file passes over it.
                onlyWhitespace = false;
                continue;
            }

            var label = text.AsSpan()[fields.Label];
            if (label.SequenceEqual(CertificateLabel))
            {
                var der = new byte[fields.DecodedDataLength];
                if (!Convert.TryFromBase64Chars(text.AsSpan()[fields.Base64Data], der, out _))
                {
                    return false;
                }

                certificates.Add(Convert.ToBase64String(der));
            }
            else if (!label.SequenceEqual(TrustedCertificateLabel))
            {
                return false;
            }

            blocks++;
        }

        return blocks > 0 || (onlyWhitespace && block.Length == 0);
    }

    [LibraryImport("libcrypto.so.3", EntryPoint = "X509_get_default_cert_file")]
    private static partial nint DefaultCertificateFile();

    [LibraryImport("libcrypto.so.3", EntryPoint = "X509_get_default_cert_dir")]
    private static partial nint DefaultCertificateDirectory();

    [LibraryImport("libc", EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int SetEnvironment(string name, string value, int overwrite);
}
