using System.Globalization;
using System.Threading.Channels;
using Microsoft.Extensions.Logging;

namespace Kubesharp.ApiServer.Audit;

/// <summary>
/// Appends events (one JSON line each) to the audit log from a background loop, so a request only queues its bytes.
/// Whatever is queued is written in one go; the file is rotated past its size limit into
/// NAME-yyyy-MM-ddTHH-mm-ss.fff.EXT (upstream's naming), old files pruned by count and age. Disposal writes out
/// everything queued before it returns.
/// </summary>
internal sealed partial class AuditLogWriter : IAsyncDisposable
{
    private const int QueueCapacity = 10_000;
    private readonly Channel<byte[]> _queue = Channel.CreateBounded<byte[]>(new BoundedChannelOptions(QueueCapacity) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });
    private readonly string _path;
    private readonly long _maxBytes;
    private readonly int _maxBackups;
    private readonly TimeSpan _maxAge;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Task _loop;
    private Stream? _stream;
    private long _size;
    private DateTime _lastRotation;

    public AuditLogWriter(AuditOptions options, TimeProvider time, ILogger logger)
    {
        _path = options.LogPath;
        _maxBytes = (options.MaxSizeMegabytes > 0 ? options.MaxSizeMegabytes : 100) * 1024L * 1024L;
        _maxBackups = options.MaxBackups;
        _maxAge = TimeSpan.FromDays(options.MaxAgeDays);
        _time = time;
        _logger = logger;
        Open();
        _loop = Task.Run(RunAsync);
    }

    /// <summary>For tests: rotation past this many bytes instead of megabytes.</summary>
    internal long MaxBytes
    {
        get => _maxBytes;
        init => _maxBytes = value;
    }

    /// <summary>Queues one line; waits only when the queue is full, rather than lose the event.</summary>
    public ValueTask WriteAsync(byte[] line, CancellationToken cancellationToken) =>
        _queue.Writer.TryWrite(line) ? ValueTask.CompletedTask : _queue.Writer.WriteAsync(line, cancellationToken);

    private void Open()
    {
        if (_path == "-")
        {
            _stream = Console.OpenStandardOutput();
            return;
        }

        if (Path.GetDirectoryName(Path.GetFullPath(_path)) is { } directory)
        {
            Directory.CreateDirectory(directory);
        }

        var options = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write, Share = FileShare.Read, BufferSize = 64 * 1024 };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        var stream = new FileStream(_path, options);
        _size = stream.Length;
        _stream = stream;
    }

    private async Task RunAsync()
    {
        var reader = _queue.Reader;
        while (await reader.WaitToReadAsync().ConfigureAwait(false))
        {
            try
            {
                while (reader.TryRead(out var line))
                {
                    if (_path != "-" && _size > 0 && _size + line.Length > _maxBytes)
                    {
                        await RotateAsync().ConfigureAwait(false);
                    }

                    await _stream!.WriteAsync(line).ConfigureAwait(false);
                    _size += line.Length;
                }

                await _stream!.FlushAsync().ConfigureAwait(false);
            }
            catch (IOException ex)
            {
                LogWriteFailed(_logger, _path, ex);
            }
        }
    }

    private async Task RotateAsync()
    {
        await _stream!.DisposeAsync().ConfigureAwait(false);
        var directory = Path.GetDirectoryName(Path.GetFullPath(_path))!;
        var name = Path.GetFileNameWithoutExtension(_path);
        var extension = Path.GetExtension(_path);
        // Names must sort in rotation order (pruning keeps the last ones): two rotations in one millisecond get the next one.
        var now = _time.GetUtcNow().UtcDateTime;
        var at = new DateTime(now.Ticks - (now.Ticks % TimeSpan.TicksPerMillisecond), DateTimeKind.Utc);
        _lastRotation = at > _lastRotation ? at : _lastRotation.AddMilliseconds(1);
        var backup = Path.Combine(directory, $"{name}-{_lastRotation.ToString("yyyy-MM-dd'T'HH-mm-ss.fff", CultureInfo.InvariantCulture)}{extension}");

        File.Move(_path, backup);
        Open();
        Prune(directory, name, extension);
    }

    private void Prune(string directory, string name, string extension)
    {
        var backups = Directory.GetFiles(directory, $"{name}-*{extension}")
            .Select(f => new FileInfo(f))
            .OrderByDescending(f => f.Name, StringComparer.Ordinal)
            .ToList();
        var now = _time.GetUtcNow().UtcDateTime;
        for (var i = 0; i < backups.Count; i++)
        {
            var tooMany = _maxBackups > 0 && i >= _maxBackups;
            var tooOld = _maxAge > TimeSpan.Zero && now - backups[i].LastWriteTimeUtc > _maxAge;
            if (tooMany || tooOld)
            {
                backups[i].Delete();
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _queue.Writer.TryComplete();
        await _loop.ConfigureAwait(false);
        if (_stream is not null && _path != "-")
        {
            await _stream.DisposeAsync().ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing the audit log {Path} failed")]
    private static partial void LogWriteFailed(ILogger logger, string path, Exception exception);
}
