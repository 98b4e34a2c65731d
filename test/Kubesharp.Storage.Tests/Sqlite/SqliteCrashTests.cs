using System.Diagnostics;
using System.Globalization;
using Kubesharp.Storage.Sqlite;
using Microsoft.Data.Sqlite;

namespace Kubesharp.Storage.Tests.Sqlite;

/// <summary>A child process writes concurrently and is killed with SIGKILL at random moments; nothing acknowledged may be lost.</summary>
public sealed class SqliteCrashTests : IDisposable
{
    private const int Kills = 24;

    private readonly TempDirectory _directory = new();

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Kill_DuringConcurrentWrites_EveryAcknowledgedWriteSurvives()
    {
        var path = Path.Combine(_directory.Path, "state.db");
        var writer = Path.Combine(AppContext.BaseDirectory, "Kubesharp.Storage.CrashWriter.dll");
        var random = new Random(20250101);
        var acknowledged = new Dictionary<string, long>(StringComparer.Ordinal);
        long lastRevision = 0;
        for (var kill = 0; kill < Kills; kill++)
        {
            var acks = await RunAndKillAsync(writer, path, kill, random.Next(1, 400));
            foreach (var (key, acked) in acks)
            {
                acknowledged[key] = Math.Max(acknowledged.GetValueOrDefault(key), acked);
            }

            await AssertIntactAsync(path);
            await using var store = await SqliteStore.OpenAsync(new SqliteStoreOptions { Path = path, CompactionInterval = TimeSpan.Zero }, default);
            var revision = await store.GetCurrentRevisionAsync(default);
            Assert.True(revision >= lastRevision, $"revision went back from {lastRevision} to {revision} after kill {kill}");
            lastRevision = revision;
            foreach (var (key, ackedRevision) in acks)
            {
                var value = await store.GetAsync(key, 0, default);
                Assert.True(value is not null, $"acknowledged {key}@{ackedRevision} lost after kill {kill}");
                Assert.True(value.ModRevision >= acknowledged[key], $"{key} is at {value.ModRevision}, {acknowledged[key]} was acknowledged");
                Assert.True(ackedRevision <= revision);
            }
        }

        Assert.True(acknowledged.Count > Kills);
    }

    private static async Task<List<(string Key, long Revision)>> RunAndKillAsync(string writer, string path, int run, int killAfterAcks)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { writer, path, "16", run.ToString(CultureInfo.InvariantCulture) })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var acks = new List<(string, long)>();
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (acks.Count < killAfterAcks)
            {
                var line = await process.StandardOutput.ReadLineAsync(deadline.Token)
                    ?? throw new InvalidOperationException("writer exited: " + await process.StandardError.ReadToEndAsync(deadline.Token));
                if (line.StartsWith("ack ", StringComparison.Ordinal))
                {
                    var parts = line.Split(' ');
                    acks.Add((parts[1], long.Parse(parts[2], CultureInfo.InvariantCulture)));
                }
            }
        }
        finally
        {
            // SIGKILL: no flush, no dispose, no chance to finish the transaction in flight.
            process.Kill();
            await process.WaitForExitAsync();
        }

        // Lines printed before the kill are acknowledged writes too.
        var rest = await process.StandardOutput.ReadToEndAsync();
        foreach (var line in rest.Split('\n'))
        {
            var parts = line.Split(' ');
            if (parts.Length == 3 && parts[0] == "ack")
            {
                acks.Add((parts[1], long.Parse(parts[2], CultureInfo.InvariantCulture)));
            }
        }

        return acks;
    }

    private static async Task AssertIntactAsync(string path)
    {
        // Opening read-only first: the file must be usable as left behind, with no repair step.
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA quick_check";
        Assert.Equal("ok", (string?)await command.ExecuteScalarAsync());
    }
}
