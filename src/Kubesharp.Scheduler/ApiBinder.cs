using Kubesharp.Api.Core.V1;
using Kubesharp.Client;

namespace Kubesharp.Scheduler;

/// <summary>Binds through POST pods/NAME/binding.</summary>
public sealed class ApiBinder(KubernetesClient client) : IBinder
{
    private readonly ResourceClient<Pod> pods = client.Resource<Pod>();

    public Task BindAsync(string @namespace, string name, string uid, string nodeName, CancellationToken cancellationToken) =>
        pods.BindAsync(@namespace, name, nodeName, uid, cancellationToken);
}
