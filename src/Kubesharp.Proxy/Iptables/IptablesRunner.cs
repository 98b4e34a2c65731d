namespace Kubesharp.Proxy.Iptables;

/// <summary>
/// Applies rules with one atomic <c>iptables-restore --noflush</c> per sync, keeps the jumps from the
/// built-in chains into ours, and removes everything of ours on cleanup.
/// </summary>
public sealed class IptablesRunner(HostCommand command, IptablesChains? chains = null)
{
    private readonly IptablesChains names = chains ?? IptablesChains.Default;

    private (string Table, string Chain, string[] Match, string Target)[] Jumps =>
    [
        ("nat", "PREROUTING", [], names.Services),
        ("nat", "OUTPUT", [], names.Services),
        ("nat", "POSTROUTING", [], names.Postrouting),
        ("filter", "FORWARD", [], names.Forward),
        ("filter", "FORWARD", ["-m", "conntrack", "--ctstate", "NEW"], names.Reject),
        ("filter", "OUTPUT", ["-m", "conntrack", "--ctstate", "NEW"], names.Reject),
        ("filter", "INPUT", ["-m", "conntrack", "--ctstate", "NEW"], names.Reject),
    ];

    public async Task RestoreAsync(string input, CancellationToken cancellationToken)
    {
        var result = await command.RunAsync(["iptables-restore", "--noflush", "-w", "5"], input, cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            throw new IptablesException($"iptables-restore failed ({result.ExitCode}): {result.StandardError.Trim()}");
        }
    }

    /// <summary>
    /// Puts each jump from a built-in chain into ours first in that chain, unless it is there: one
    /// <c>iptables-save</c> shows which are, and one restore inserts the rest (a check and an insert per jump would
    /// start up to fourteen processes on a fresh node, while it starts).
    /// </summary>
    public async Task EnsureJumpsAsync(CancellationToken cancellationToken)
    {
        var saved = await command.RunAsync(["iptables-save"], null, cancellationToken).ConfigureAwait(false);
        if (!saved.Succeeded)
        {
            throw new IptablesException($"iptables-save failed ({saved.ExitCode}): {saved.StandardError.Trim()}");
        }

        var present = JumpsIn(saved.StandardOutput);
        var input = new System.Text.StringBuilder();
        foreach (var table in Jumps.Where(j => !present.Contains((j.Table, j.Chain, j.Target))).GroupBy(j => j.Table))
        {
            input.Append('*').Append(table.Key).Append('\n');
            foreach (var (_, chain, match, target) in table)
            {
                input.Append("-I ").Append(chain).Append(" 1 ").AppendJoin(' ', [.. match, "-m", "comment", "--comment", "kubesharp", "-j", target]).Append('\n');
            }

            input.Append("COMMIT\n");
        }

        if (input.Length > 0)
        {
            await RestoreAsync(input.ToString(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The (table, chain, target) of each rule in <paramref name="saved"/> that carries our comment: our chains' names
    /// are our own, so a rule of ours jumping from a chain to one of them is that jump, however the save spells its matches.
    /// </summary>
    private static HashSet<(string Table, string Chain, string Target)> JumpsIn(string saved) =>
        SavedRule.Parse(saved).Where(r => r.Comment == "kubesharp" && r.Target is not null).Select(r => (r.Table, r.Chain, r.Target!)).ToHashSet();

    /// <summary>Removes our jumps and chains from both tables.</summary>
    public async Task CleanupAsync(CancellationToken cancellationToken)
    {
        foreach (var (table, chain, match, target) in Jumps)
        {
            string[] rule = [.. match, "-m", "comment", "--comment", "kubesharp", "-j", target];
            while ((await command.RunAsync(["iptables", "-w", "5", "-t", table, "-D", chain, .. rule], null, cancellationToken).ConfigureAwait(false)).Succeeded)
            {
            }
        }

        await RemoveChainsAsync(names.Owns, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Removes, in one restore per table, every chain <paramref name="owns"/> claims and every rule elsewhere that
    /// jumps into one (so whatever put such a jump there, a stop or a later cleanup leaves nothing behind).
    /// </summary>
    public async Task RemoveChainsAsync(Func<string, bool> owns, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(owns);
        var input = new System.Text.StringBuilder();
        foreach (var table in new[] { "filter", "nat" })
        {
            var saved = await command.RunAsync(["iptables-save", "-t", table], null, cancellationToken).ConfigureAwait(false);
            var lines = saved.StandardOutput.Split('\n');
            var ours = lines
                .Where(l => l.StartsWith(':'))
                .Select(l => l[1..].Split(' ')[0])
                .Where(owns)
                .ToList();
            if (ours.Count == 0)
            {
                continue;
            }

            var jumps = lines.Where(l => SavedRule.Parse(l).FirstOrDefault() is { Target: { } target } rule && !owns(rule.Chain) && owns(target)).ToList();
            input.Append('*').Append(table).Append('\n');
            foreach (var chain in ours)
            {
                input.Append(':').Append(chain).Append(" - [0:0]\n");
            }

            foreach (var jump in jumps)
            {
                input.Append("-D ").Append(jump.AsSpan(3)).Append('\n');
            }

            foreach (var chain in ours)
            {
                input.Append("-X ").Append(chain).Append('\n');
            }

            input.Append("COMMIT\n");
        }

        if (input.Length > 0)
        {
            await RestoreAsync(input.ToString(), cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Makes <c>-j TARGET</c> (with a <c>kubesharp</c> comment) the first rule of a built-in chain, moving it there
    /// when other rules came before it.
    /// </summary>
    public async Task EnsureFirstJumpAsync(string table, string chain, string target, CancellationToken cancellationToken)
    {
        string[] rule = ["-m", "comment", "--comment", "kubesharp", "-j", target];
        var listed = await command.RunAsync(["iptables", "-w", "5", "-t", table, "-S", chain], null, cancellationToken).ConfigureAwait(false);
        if (SavedRule.Parse(listed.StandardOutput).FirstOrDefault().Target == target)
        {
            return;
        }

        while ((await command.RunAsync(["iptables", "-w", "5", "-t", table, "-D", chain, .. rule], null, cancellationToken).ConfigureAwait(false)).Succeeded)
        {
        }

        var insert = await command.RunAsync(["iptables", "-w", "5", "-t", table, "-I", chain, "1", .. rule], null, cancellationToken).ConfigureAwait(false);
        if (!insert.Succeeded)
        {
            throw new IptablesException($"iptables -I {chain} failed: {insert.StandardError.Trim()}");
        }
    }

    /// <summary>Drops UDP conntrack entries that still send a service's traffic to a removed endpoint.</summary>
    public async Task ClearUdpConntrackAsync(string serviceIp, string endpointIp, CancellationToken cancellationToken)
    {
        try
        {
            // Exit code 1 means no entries matched, which is fine.
            await command.RunAsync(["conntrack", "-D", "-p", "udp", "--orig-dst", serviceIp, "--dst-nat", endpointIp], null, cancellationToken).ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // conntrack-tools not installed: stale UDP flows then expire on their own timeout.
        }
    }
}
