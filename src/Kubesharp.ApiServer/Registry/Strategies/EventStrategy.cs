using Kubesharp.ApiMachinery.Discovery;

namespace Kubesharp.ApiServer.Registry.Strategies;

/// <summary>Events are plain records; they expire after the event TTL.</summary>
internal sealed class EventStrategy(ApiResource resource) : ResourceStrategy(resource)
{
    public override bool TracksGeneration => false;

    protected override NameRule NameRule => NameRule.Path;
}
