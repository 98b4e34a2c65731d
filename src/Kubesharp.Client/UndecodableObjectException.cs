using System.Text.Json;

namespace Kubesharp.Client;

/// <summary>A GET answered with an object that does not fit its type; <see cref="Object"/> says which and why.</summary>
public sealed class UndecodableObjectException : JsonException
{
    public UndecodableObjectException(UndecodableObject obj, Exception innerException)
        : base($"{obj.Kind} {obj.Key} does not decode: {obj.Reason}", innerException)
    {
        Object = obj;
    }

    public UndecodableObject Object { get; }
}
