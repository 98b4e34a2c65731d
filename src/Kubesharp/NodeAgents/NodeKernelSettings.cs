using Microsoft.Extensions.Logging;

namespace Kubesharp.NodeAgents;

/// <summary>
/// Kernel settings a node's service traffic depends on: forwarding, and bridged pod traffic passing
/// iptables (else a reply from a pod on the same bridge skips the service DNAT's reverse translation).
/// </summary>
internal static partial class NodeKernelSettings
{
    private static readonly string[] Required = ["/proc/sys/net/ipv4/ip_forward", "/proc/sys/net/bridge/bridge-nf-call-iptables"];

    public static async Task ApplyAsync(ILogger logger, CancellationToken cancellationToken)
    {
        if (!File.Exists(Required[1]))
        {
            // The bridge hooks live in br_netfilter; load it when it is not built in.
            try
            {
                using var modprobe = System.Diagnostics.Process.Start("modprobe", "br_netfilter");
                if (modprobe is not null)
                {
                    await modprobe.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (System.ComponentModel.Win32Exception)
            {
            }
        }

        foreach (var path in Required)
        {
            try
            {
                if ((await File.ReadAllTextAsync(path, cancellationToken).ConfigureAwait(false)).Trim() != "1")
                {
                    await File.WriteAllTextAsync(path, "1", cancellationToken).ConfigureAwait(false);
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogSettingFailed(logger, path, e.Message);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not set {Path} to 1 ({Reason}); service traffic between pods may fail")]
    private static partial void LogSettingFailed(ILogger logger, string path, string reason);
}
