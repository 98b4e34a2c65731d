using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;

namespace Kubesharp.Kubelet.Streaming;

/// <summary>Reads the runtime's container log files (CRI format), whole or following new lines as they are written.</summary>
internal static class CriLogReader
{
    public static IEnumerable<CriLogLine> ReadAll(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line)
        {
            if (TryParse(line, out var entry))
            {
                yield return entry;
            }
        }
    }

    /// <summary>Parses a record; the content gets its newline back unless the record is a partial line.</summary>
    public static bool TryParse(string line, out CriLogLine entry)
    {
        entry = default;
        var first = line.IndexOf(' ', StringComparison.Ordinal);
        if (first < 0)
        {
            return false;
        }

        var second = line.IndexOf(' ', first + 1);
        if (second < 0)
        {
            return false;
        }

        var third = line.IndexOf(' ', second + 1);
        var tag = third < 0 ? line[(second + 1)..] : line[(second + 1)..third];
        var content = third < 0 ? "" : line[(third + 1)..];
        var timestampText = line[..first];
        if (!DateTimeOffset.TryParse(timestampText, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var timestamp))
        {
            return false;
        }

        entry = new CriLogLine(timestamp, line[(first + 1)..second], timestampText, tag.StartsWith('P') ? content : content + "\n");
        return true;
    }

    /// <summary>Yields records appended after <paramref name="startOffset"/> until <paramref name="stillWriting"/> says the writer is gone and the file is drained.</summary>
    public static async IAsyncEnumerable<CriLogLine> FollowAsync(
        string path, long startOffset, Func<CancellationToken, Task<bool>> stillWriting, TimeProvider time, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        stream.Seek(startOffset, SeekOrigin.Begin);
        var pending = new List<byte>();
        var buffer = new byte[16 * 1024];
        while (!cancellationToken.IsCancellationRequested)
        {
            var read = await stream.ReadAsync(buffer, cancellationToken);
            if (read > 0)
            {
                var start = 0;
                for (var i = 0; i < read; i++)
                {
                    if (buffer[i] != '\n')
                    {
                        continue;
                    }

                    pending.AddRange(buffer.AsSpan(start, i - start));
                    start = i + 1;
                    if (TryParse(Encoding.UTF8.GetString(pending.ToArray()), out var entry))
                    {
                        yield return entry;
                    }

                    pending.Clear();
                }

                pending.AddRange(buffer.AsSpan(start, read - start));
                continue;
            }

            if (!await stillWriting(cancellationToken))
            {
                yield break;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(200), time, cancellationToken);
        }
    }
}
