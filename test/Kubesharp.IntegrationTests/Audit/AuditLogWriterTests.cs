using System.Text;
using Kubesharp.ApiServer.Audit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Kubesharp.IntegrationTests.Audit;

/// <summary>The background writer: every queued line written by disposal, rotation by size, backups pruned by count.</summary>
public sealed class AuditLogWriterTests : IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("kubesharp-audit-").FullName;

    [Fact]
    public async Task WriteAsync_PastTheSizeLimit_RotatesAndKeepsMaxBackups()
    {
        var path = Path.Combine(_directory, "audit.log");
        var writer = new AuditLogWriter(new AuditOptions { PolicyFile = "unused", LogPath = path, MaxBackups = 2 }, TimeProvider.System, NullLogger.Instance) { MaxBytes = 1000 };
        var written = new List<string>();
        for (var i = 0; i < 100; i++)
        {
            var line = $"{{\"n\":{i},\"pad\":\"{new string('x', 80)}\"}}\n";
            written.Add(line.TrimEnd('\n'));
            await writer.WriteAsync(Encoding.UTF8.GetBytes(line), CancellationToken.None);
        }

        await writer.DisposeAsync();
        var backups = Directory.GetFiles(_directory, "audit-*.log");
        Assert.Equal(2, backups.Length);
        Assert.All(backups, b => Assert.Matches(@"audit-\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d{3}\.log$", b));
        Assert.All(Directory.GetFiles(_directory), f => Assert.True(new FileInfo(f).Length <= 1000, $"{f} is larger than the limit"));
        // Only written lines, none twice, the last one included (disposal writes out the queue).
        var kept = backups.Append(path).SelectMany(File.ReadAllLines).ToList();
        Assert.All(kept, line => Assert.Contains(line, written));
        Assert.Equal(kept.Count, kept.Distinct(StringComparer.Ordinal).Count());
        Assert.Equal(written[^1], File.ReadAllLines(path)[^1]);
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
