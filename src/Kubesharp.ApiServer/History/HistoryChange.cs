namespace Kubesharp.ApiServer.History;

/// <summary>What a write did to an object, named as watch events name it.</summary>
internal static class HistoryChange
{
    public const string Added = "ADDED";
    public const string Modified = "MODIFIED";
    public const string Deleted = "DELETED";
}
