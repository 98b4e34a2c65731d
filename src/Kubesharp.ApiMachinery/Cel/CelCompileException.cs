namespace Kubesharp.ApiMachinery.Cel;

/// <summary>A parse or type-check error at an offset of the expression.</summary>
internal sealed class CelCompileException(string message, int position) : Exception(message)
{
    public int Position { get; } = position;
}
