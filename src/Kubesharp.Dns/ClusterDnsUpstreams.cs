using System.Net;

namespace Kubesharp.Dns;

/// <summary>The resolvers cluster DNS forwards to: the node's nameservers, never itself.</summary>
public static class ClusterDnsUpstreams
{
    public static List<IPEndPoint> FromResolvConf(string text, IPEndPoint self)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentNullException.ThrowIfNull(self);
        var result = new List<IPEndPoint>();
        foreach (var line in text.Split('\n'))
        {
            var fields = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
            if (fields is ["nameserver", var nameserver, ..] &&
                IPAddress.TryParse(nameserver.Split('%')[0], out var address) &&
                !(address.Equals(self.Address) && self.Port == 53))
            {
                result.Add(new IPEndPoint(address, 53));
            }
        }

        return result;
    }
}
