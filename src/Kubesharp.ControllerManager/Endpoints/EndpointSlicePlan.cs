using Kubesharp.Api.Discovery.V1;

namespace Kubesharp.ControllerManager.Endpoints;

/// <summary>What to write so a Service's slices match its endpoints: new slices, changed slices (copies), slices to delete.</summary>
internal sealed record EndpointSlicePlan(IReadOnlyList<EndpointSlice> Create, IReadOnlyList<EndpointSlice> Update, IReadOnlyList<EndpointSlice> Delete)
{
    public bool IsEmpty => Create.Count == 0 && Update.Count == 0 && Delete.Count == 0;
}
