using System.Globalization;
using System.Text;
using Kubesharp.Bench.Common;

namespace Kubesharp.Bench.Api;

/// <summary>
/// The ahead-of-time compiled executable against the JIT build, side by side in one run: seconds from process start
/// to /readyz on a fresh data directory, and idle RSS of the control plane (`server --disable-agent`).
/// </summary>
internal static class NativeBenchmark
{
    public static async Task<string> RunAsync(string root, string nativeBinary, int startRuns, TimeSpan settle, bool quick)
    {
        var load = BenchmarkReport.LoadAverage();
        var jit = await MeasureAsync(root, "jit", null, startRuns, settle);
        var native = await MeasureAsync(root, "native", nativeBinary, startRuns, settle);
        var loadAfter = BenchmarkReport.LoadAverage();
        var size = new FileInfo(nativeBinary).Length / 1048576.0;

        var section = new StringBuilder();
        section.AppendLine("## Native build");
        section.AppendLine();
        section.AppendLine(CultureInfo.InvariantCulture, $"Program: `bench/Kubesharp.Bench.Api --native PATH`{(quick ? " (--quick)" : string.Empty)}. The `kubesharp` executable published with Native AOT");
        section.AppendLine("(`dotnet publish src/Kubesharp -c Release -r linux-x64 -p:PublishAot=true`) against the JIT build of the same commit,");
        section.AppendLine(CultureInfo.InvariantCulture, $"each started {startRuns} times as `server --disable-agent` (SQLite) on a fresh data directory (certificates and database");
        section.AppendLine(CultureInfo.InvariantCulture, $"created), the JIT build first; idle RSS {settle.TotalSeconds:0} s after the last start. Load average (1/5/15 min) {load} before, {loadAfter} after.");
        section.AppendLine(CultureInfo.InvariantCulture, $"Native executable: {size:0.0} MB. Targets: idle RSS ≤ 45 MB, start to /readyz ≤ 0.15 s.");
        section.AppendLine();
        section.AppendLine("| measurement | native | JIT build | native / JIT |");
        section.AppendLine("|---|--:|--:|--:|");
        Row(section, "seconds from start to /readyz, median", BenchmarkReport.Percentile(native.Ready, 0.5), BenchmarkReport.Percentile(jit.Ready, 0.5), "0.00");
        Row(section, "seconds from start to /readyz, worst", native.Ready.Max(), jit.Ready.Max(), "0.00");
        Row(section, "idle RSS, control plane only, MB", native.IdleRssKilobytes / 1024.0, jit.IdleRssKilobytes / 1024.0, "0.0");
        return section.ToString();
    }

    private static void Row(StringBuilder section, string measurement, double native, double jit, string format) =>
        section.AppendLine(CultureInfo.InvariantCulture, $"| {measurement} | {BenchmarkReport.Format(native, format)} | {BenchmarkReport.Format(jit, format)} | {BenchmarkReport.Ratio(native, jit)} |");

    private static async Task<(List<double> Ready, long IdleRssKilobytes)> MeasureAsync(string root, string name, string? binary, int startRuns, TimeSpan settle)
    {
        var ready = new List<double>();
        ServerProcess? server = null;
        try
        {
            for (var run = 0; run < startRuns; run++)
            {
                server?.Dispose();
                var dataDir = Path.Combine(root, $"{name}-{run.ToString(CultureInfo.InvariantCulture)}");
                server = binary is null ? await ServerProcess.StartJitAsync(dataDir) : await ServerProcess.StartExecutableAsync(binary, dataDir);
                ready.Add(server.ReadySeconds);
                Console.Error.WriteLine($"{name}: ready in {server.ReadySeconds:F2} s");
            }

            await Task.Delay(settle);
            var rss = server!.RssKilobytes();
            Console.Error.WriteLine($"{name}: idle RSS {rss / 1024.0:F1} MB");
            return (ready, rss);
        }
        finally
        {
            server?.Dispose();
        }
    }
}
