using System.Diagnostics;
using Kubesharp.Storage.Sqlite;

namespace Kubesharp.Storage.Tests.Sqlite;

/// <summary>Only one store at a time may have a database file open; the second one fails at once with a clear error.</summary>
public sealed class SqliteStoreLockTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    private string DatabasePath => Path.Combine(_directory.Path, "db", "state.db");

    private Task<SqliteStore> OpenAsync() =>
        SqliteStore.OpenAsync(new SqliteStoreOptions { Path = DatabasePath, CompactionInterval = TimeSpan.Zero }, default);

    public void Dispose() => _directory.Dispose();

    [Fact]
    public async Task Open_SamePathAlreadyOpen_ThrowsDatastoreInUse()
    {
        await using var first = await OpenAsync();
        await first.CreateAsync("/a", "one"u8.ToArray(), default);

        var error = await Assert.ThrowsAsync<DatastoreInUseException>(OpenAsync);

        Assert.Equal(Path.GetFullPath(DatabasePath), error.Path);
        Assert.Contains("in use", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', error.Message);
        // The first store is untouched by the attempt.
        Assert.NotNull(await first.GetAsync("/a", 0, default));
        await first.CreateAsync("/b", "two"u8.ToArray(), default);
    }

    [Fact]
    public async Task Open_AfterFirstStoreDisposed_Succeeds()
    {
        await using (var first = await OpenAsync())
        {
            await first.CreateAsync("/a", "one"u8.ToArray(), default);
        }

        await using var second = await OpenAsync();
        Assert.NotNull(await second.GetAsync("/a", 0, default));
    }

    [Fact]
    public async Task Open_PathOpenInAnotherProcess_ThrowsUntilThatProcessDies()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(DatabasePath)!);
        var writer = Path.Combine(AppContext.BaseDirectory, "Kubesharp.Storage.CrashWriter.dll");
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in new[] { writer, DatabasePath, "1", "lock" })
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        try
        {
            using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            string? line;
            do
            {
                line = await process.StandardOutput.ReadLineAsync(deadline.Token)
                    ?? throw new InvalidOperationException("writer exited: " + await process.StandardError.ReadToEndAsync(deadline.Token));
            }
            while (!line.StartsWith("ready", StringComparison.Ordinal));

            await Assert.ThrowsAsync<DatastoreInUseException>(OpenAsync);
        }
        finally
        {
            // SIGKILL: the kernel releases the lock with the process, no stale lock remains.
            process.Kill();
            await process.WaitForExitAsync();
        }

        await using var store = await OpenAsync();
        Assert.True(await store.GetCurrentRevisionAsync(default) >= 0);
    }
}
