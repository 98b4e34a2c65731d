/// <summary>
/// How this benchmark's own process runs. The server, the scheduler and the pod creators share it (as in upstream's
/// scheduler_perf); bench/run publishes it natively, so that it runs the code the kubesharp executable runs rather
/// than code the JIT is still compiling.
/// </summary>
internal static class BenchProcess
{
    public static bool IsNative => !System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported;

    public static string Build => IsNative ? "published natively (Native AOT)" : "on the JIT";
}
