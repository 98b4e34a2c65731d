using System.Text;

namespace Kubesharp.ApiServer.Security;

/// <summary>Writes kubeconfig files with embedded CA and client credentials.</summary>
public static class Kubeconfig
{
    public static string Render(string server, string caPem, string clientCertificatePem, string clientKeyPem, string name = "kubesharp")
    {
        static string B64(string pem) => Convert.ToBase64String(Encoding.UTF8.GetBytes(pem));
        return $"""
            apiVersion: v1
            kind: Config
            clusters:
            - cluster:
                certificate-authority-data: {B64(caPem)}
                server: {server}
              name: {name}
            contexts:
            - context:
                cluster: {name}
                user: {name}
              name: {name}
            current-context: {name}
            preferences: {"{}"}
            users:
            - name: {name}
              user:
                client-certificate-data: {B64(clientCertificatePem)}
                client-key-data: {B64(clientKeyPem)}

            """;
    }

    public static void Write(string path, string content)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var temp = path + ".tmp";
        File.WriteAllText(temp, content);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }

        File.Move(temp, path, overwrite: true);
    }
}
