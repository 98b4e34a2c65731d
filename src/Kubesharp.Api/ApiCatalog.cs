using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.Api;

public static partial class ApiCatalog
{
    public static IReadOnlyList<ApiResource> Resources { get; } = SpecResources();
}
