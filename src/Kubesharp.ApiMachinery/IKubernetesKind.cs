using Kubesharp.ApiMachinery.Schema;

namespace Kubesharp.ApiMachinery;

/// <summary>
/// A C# type that is exactly one kind of the API, so generic code (clients, registries) can ask the type
/// for its group, version and kind: <c>T.GroupVersionKind</c>.
/// </summary>
public interface IKubernetesKind
{
    static abstract GroupVersionKind GroupVersionKind { get; }
}
