namespace Kubesharp.NodeAgents;

/// <summary>The server cannot be trusted: its CA is not the one the join token pins, or nothing pins it.</summary>
internal sealed class ClusterCaMismatchException : Exception
{
    public ClusterCaMismatchException()
    {
    }

    public ClusterCaMismatchException(string message)
        : base(message)
    {
    }

    public ClusterCaMismatchException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
