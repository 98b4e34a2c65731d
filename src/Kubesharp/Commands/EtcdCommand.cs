using System.CommandLine;
using System.Globalization;
using Kubesharp.EmbeddedEtcd;
using Kubesharp.Storage;
using Kubesharp.Storage.Etcd;

namespace Kubesharp.Commands;

/// <summary>
/// <c>kubesharp etcd member list|remove</c>: the members of the etcd cluster the servers of a <c>--cluster-init</c>
/// cluster run, read and changed through this server's own member (DATA/server/etcd).
/// </summary>
internal static class EtcdCommand
{
    public static Command Create()
    {
        var member = new Command("member", "List or remove the etcd members of the cluster's servers.");
        member.Subcommands.Add(List());
        member.Subcommands.Add(Remove());
        var command = new Command("etcd", "The etcd cluster of the servers started with --cluster-init and --server.");
        command.Subcommands.Add(member);
        return command;
    }

    private static Option<string> DataDir() =>
        new("--data-dir") { Description = "The server's data directory.", DefaultValueFactory = _ => ApiServer.ApiServerOptions.DefaultDataDir };

    private static Command List()
    {
        var dataDir = DataDir();
        var command = new Command("list", "List the members: ID, name, peer URL, client URL.") { dataDir };
        command.SetAction(async (result, cancellationToken) =>
        {
            await using var etcd = await OpenAsync(result.GetRequiredValue(dataDir), cancellationToken).ConfigureAwait(false);
            if (etcd is null)
            {
                await Console.Error.WriteLineAsync("kubesharp: this data directory runs no etcd member (see server --cluster-init)").ConfigureAwait(false);
                return 1;
            }

            var output = result.InvocationConfiguration.Output;
            await output.WriteLineAsync("ID                NAME                     PEER URL                       CLIENT URL").ConfigureAwait(false);
            foreach (var m in (await etcd.MemberListAsync(cancellationToken).ConfigureAwait(false)).Members)
            {
                await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture,
                    $"{m.ID:x16}  {(m.Name.Length > 0 ? m.Name : "(not started)"),-23}  {string.Join(',', m.PeerURLs),-29}  {string.Join(',', m.ClientURLs)}")).ConfigureAwait(false);
            }

            return 0;
        });
        return command;
    }

    private static Command Remove()
    {
        var dataDir = DataDir();
        var name = new Argument<string>("member") { Description = "The member's name or hexadecimal ID (from etcd member list)." };
        var command = new Command("remove", "Remove a member, such as the one of a server that is gone for good.") { dataDir, name };
        command.SetAction(async (result, cancellationToken) =>
        {
            await using var etcd = await OpenAsync(result.GetRequiredValue(dataDir), cancellationToken).ConfigureAwait(false);
            if (etcd is null)
            {
                await Console.Error.WriteLineAsync("kubesharp: this data directory runs no etcd member (see server --cluster-init)").ConfigureAwait(false);
                return 1;
            }

            var wanted = result.GetRequiredValue(name);
            var members = (await etcd.MemberListAsync(cancellationToken).ConfigureAwait(false)).Members;
            var found = members.FirstOrDefault(m => m.Name == wanted || m.ID.ToString("x", CultureInfo.InvariantCulture) == wanted.TrimStart('0') || m.ID.ToString("x16", CultureInfo.InvariantCulture) == wanted);
            if (found is null)
            {
                await Console.Error.WriteLineAsync($"kubesharp: no member {wanted}").ConfigureAwait(false);
                return 1;
            }

            try
            {
                await etcd.MemberRemoveAsync(found.ID, cancellationToken).ConfigureAwait(false);
            }
            catch (StorageException e)
            {
                await Console.Error.WriteLineAsync($"kubesharp: could not remove {wanted}: {e.Message}").ConfigureAwait(false);
                return 1;
            }

            await result.InvocationConfiguration.Output.WriteLineAsync($"removed member {found.Name} ({found.ID:x16})").ConfigureAwait(false);
            return 0;
        });
        return command;
    }

    private static async Task<EtcdStore?> OpenAsync(string dataDir, CancellationToken cancellationToken)
    {
        var layout = new EtcdMemberLayout(Path.GetFullPath(dataDir));
        if (layout.ClientEndpoint() is not { } endpoint || endpoint.Tls is not { } tls)
        {
            return null;
        }

        return await EtcdStore.OpenAsync(new EtcdStoreOptions
        {
            Endpoints = [.. endpoint.Hosts.Select(h => "https://" + h)],
            UseTls = true,
            CaFile = tls.CaFile,
            CertFile = tls.CertFile,
            KeyFile = tls.KeyFile,
        }, cancellationToken).ConfigureAwait(false);
    }
}
