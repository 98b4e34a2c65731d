using System.Diagnostics;
using System.Net;

namespace Kubesharp.Dns;

/// <summary>
/// The node's hold on the cluster DNS address: a dummy link carrying the address as /32, so the server can
/// bind it and pods (through their gateway) and the node itself reach it locally. Removing the link removes
/// the address. Kernels without the dummy driver get a bridge without ports instead, which behaves the same.
/// </summary>
public sealed class ClusterDnsLink(string name, IPAddress address)
{
    /// <summary>Linux interface names are at most 15 characters.</summary>
    public const int MaxNameLength = 15;

    public string Name { get; } = name.Length is > 0 and <= MaxNameLength ? name : throw new ArgumentException($"Interface name '{name}' must be 1 to {MaxNameLength} characters.", nameof(name));

    public IPAddress Address { get; } = address;

    /// <summary>Creates the link if missing, puts the address on it and brings it up (idempotent).</summary>
    public async Task EnsureAsync(CancellationToken cancellationToken)
    {
        var show = await RunAsync(["ip", "link", "show", "dev", Name], cancellationToken).ConfigureAwait(false);
        if (show.ExitCode != 0 && (await RunAsync(["ip", "link", "add", Name, "type", "dummy"], cancellationToken).ConfigureAwait(false)).ExitCode != 0)
        {
            await CheckAsync(["ip", "link", "add", Name, "type", "bridge"], cancellationToken).ConfigureAwait(false);
        }

        var prefix = Address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 ? 128 : 32;
        await CheckAsync(["ip", "addr", "replace", $"{Address}/{prefix}", "dev", Name], cancellationToken).ConfigureAwait(false);
        await CheckAsync(["ip", "link", "set", Name, "up"], cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes the link (and with it the address); a missing link is fine.</summary>
    public async Task RemoveAsync(CancellationToken cancellationToken) =>
        await RunAsync(["ip", "link", "del", Name], cancellationToken).ConfigureAwait(false);

    private static async Task CheckAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var (exitCode, error) = await RunAsync(arguments, cancellationToken).ConfigureAwait(false);
        if (exitCode != 0)
        {
            throw new IOException($"{string.Join(' ', arguments)} failed ({exitCode}): {error.Trim()}");
        }
    }

    private static async Task<(int ExitCode, string Error)> RunAsync(string[] arguments, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(arguments[0]) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in arguments.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new IOException($"could not start {arguments[0]}");
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        await process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await output.ConfigureAwait(false);
        return (process.ExitCode, await error.ConfigureAwait(false));
    }
}
