using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.Client.Discovery;

/// <summary>
/// What one discovery pass found: the resources of every group-version that answered, and the group-versions
/// that did not (an unavailable aggregated API, say), whose resources are unknown rather than gone.
/// </summary>
public sealed record DiscoveredResources(IReadOnlyList<ApiResource> Resources, IReadOnlySet<string> FailedGroupVersions);
