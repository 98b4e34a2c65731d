using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>Roles and bindings: names are path segments ("system:node" and the like), as upstream validates them.</summary>
internal sealed class RbacStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    protected override NameRule NameRule => NameRule.Path;
}
