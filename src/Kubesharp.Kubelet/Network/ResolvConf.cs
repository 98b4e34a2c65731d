using System.Text;

namespace Kubesharp.Kubelet.Network;

/// <summary>The parts of a resolv.conf a pod's DNS settings are made of.</summary>
public sealed record ResolvConf(IReadOnlyList<string> Nameservers, IReadOnlyList<string> Searches, IReadOnlyList<string> Options)
{
    public static ResolvConf Empty { get; } = new([], [], []);

    /// <summary>Reads nameserver, search/domain and options lines; comments and unknown keywords are skipped.</summary>
    public static ResolvConf Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var nameservers = new List<string>();
        var searches = new List<string>();
        var options = new List<string>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.Trim();
            if (line.Length == 0 || line[0] is '#' or ';')
            {
                continue;
            }

            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            switch (fields[0])
            {
                case "nameserver" when fields.Length > 1:
                    nameservers.Add(fields[1]);
                    break;
                case "search":
                case "domain":
                    // The last search or domain line wins, as in the resolver.
                    searches = [.. fields.Skip(1).Select(s => s.TrimEnd('.'))];
                    break;
                case "options":
                    options.AddRange(fields.Skip(1));
                    break;
            }
        }

        return new ResolvConf(nameservers, searches, options);
    }

    /// <summary>The file text a container sees as /etc/resolv.conf.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        if (Searches.Count > 0)
        {
            text.Append("search ").AppendJoin(' ', Searches).Append('\n');
        }

        foreach (var nameserver in Nameservers)
        {
            text.Append("nameserver ").Append(nameserver).Append('\n');
        }

        if (Options.Count > 0)
        {
            text.Append("options ").AppendJoin(' ', Options).Append('\n');
        }

        return text.ToString();
    }
}
