namespace Kubesharp.Kubelet.Runtime.Registries;

/// <summary>
/// One entry of <c>mirrors</c>: the endpoints tried, in order, before the registry itself, and the repository
/// rewrites (regular expression to replacement) the file asks for.
/// </summary>
public sealed record RegistryMirror(IReadOnlyList<Uri> Endpoints, IReadOnlyDictionary<string, string> Rewrites);
