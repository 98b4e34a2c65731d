namespace Kubesharp.Kubelet.Runtime;

/// <summary>An image archive could not be loaded into the runtime.</summary>
public sealed class ImageImportException(string message) : Exception(message);
