using System.Diagnostics;
using System.Globalization;
using Kubesharp.EmbeddedEtcd;

namespace Kubesharp.Snapshots;

/// <summary>
/// Restores an etcd snapshot into a server's member data directory as a new one-member cluster, with Debian's
/// <c>etcdctl snapshot restore</c> (etcd-client): it rewrites the membership and checks the snapshot's checksum.
/// </summary>
internal static class EtcdSnapshotRestore
{
    public const string EtcdctlPath = "/usr/bin/etcdctl";

    public static async Task RestoreAsync(string snapshot, EtcdMemberLayout layout, string peerUrl, bool force, CancellationToken cancellationToken)
    {
        if (!File.Exists(EtcdctlPath))
        {
            throw new FileNotFoundException($"{EtcdctlPath} is missing: install the etcd-client package", EtcdctlPath);
        }

        if (RunningMember(layout) is { } pid)
        {
            throw new InvalidOperationException($"the server's etcd (pid {pid}) is running on {layout.DataDir}; stop the server first");
        }

        if (Directory.Exists(layout.DataDir) && !force)
        {
            throw new IOException($"{layout.DataDir} exists; pass --force to replace it");
        }

        Directory.CreateDirectory(layout.Root);
        var staging = layout.DataDir + ".restore";
        if (Directory.Exists(staging))
        {
            Directory.Delete(staging, recursive: true);
        }

        var name = layout.MemberName();
        var start = new ProcessStartInfo(EtcdctlPath)
        {
            ArgumentList =
            {
                "snapshot", "restore", snapshot,
                "--name", name,
                "--data-dir", staging,
                "--initial-cluster", $"{name}={peerUrl}",
                "--initial-advertise-peer-urls", peerUrl,
                "--initial-cluster-token", "kubesharp",
            },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["ETCDCTL_API"] = "3";
        using var process = Process.Start(start) ?? throw new InvalidOperationException("etcdctl did not start");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        if (process.ExitCode != 0)
        {
            throw new InvalidDataException($"etcdctl snapshot restore failed: {(await error.ConfigureAwait(false)).Trim()} {(await output.ConfigureAwait(false)).Trim()}".Trim());
        }

        // Swap only once the new member's directory is whole: a failed restore leaves the old one as it was.
        if (Directory.Exists(layout.DataDir))
        {
            Directory.Delete(layout.DataDir, recursive: true);
        }

        Directory.Move(staging, layout.DataDir);
        await File.WriteAllTextAsync(layout.PeerUrlFile, peerUrl + "\n", cancellationToken).ConfigureAwait(false);
    }

    /// <summary>The pid of an etcd running on this layout's data directory, from its pid file.</summary>
    internal static int? RunningMember(EtcdMemberLayout layout)
    {
        try
        {
            if (!File.Exists(layout.PidFile)
                || !int.TryParse(File.ReadAllText(layout.PidFile).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                return null;
            }

            var cmdline = File.ReadAllText($"/proc/{pid}/cmdline");
            return cmdline.Contains(layout.DataDir, StringComparison.Ordinal) ? pid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
