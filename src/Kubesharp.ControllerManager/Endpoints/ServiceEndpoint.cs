using Kubesharp.Api.Core.V1;

namespace Kubesharp.ControllerManager.Endpoints;

/// <summary>One pod as an endpoint of a Service: its address, state and the ports resolved against its containers.</summary>
internal sealed record ServiceEndpoint(
    string Address,
    string AddressType,
    bool Ready,
    bool Serving,
    bool Terminating,
    string? Hostname,
    string? NodeName,
    ObjectReference TargetRef,
    IReadOnlyList<ResolvedPort> Ports);

/// <summary>A Service port with its targetPort resolved to a number for one pod.</summary>
internal sealed record ResolvedPort(string? Name, string Protocol, int Port, string? AppProtocol);
