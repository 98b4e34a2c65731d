namespace Kubesharp.Client.Events;

/// <summary>The two values of core/v1 Event.type.</summary>
public static class EventType
{
    public const string Normal = "Normal";
    public const string Warning = "Warning";
}
