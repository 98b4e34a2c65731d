namespace Kubesharp.NodeAgents;

/// <summary>A node's certificate signing request was denied or failed.</summary>
internal sealed class CertificateRequestRefusedException(string message) : Exception(message);
