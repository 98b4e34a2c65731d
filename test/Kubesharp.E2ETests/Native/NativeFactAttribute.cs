namespace Kubesharp.E2ETests.Native;

/// <summary>Needs the native executable (or clang to publish it); under CI a missing toolchain fails instead of skipping.</summary>
public sealed class NativeFactAttribute : FactAttribute
{
    public NativeFactAttribute()
    {
        if (NativeExecutable.Missing() is { } reason && Environment.GetEnvironmentVariable("CI") != "true")
        {
            Skip = reason;
        }
    }
}
