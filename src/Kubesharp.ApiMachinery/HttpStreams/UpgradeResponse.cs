using System.Globalization;
using System.Text;

namespace Kubesharp.ApiMachinery.HttpStreams;

/// <summary>The response to an upgrade request: status, headers and the connection (the upgraded one after a 101).</summary>
public sealed class UpgradeResponse : IAsyncDisposable
{
    public UpgradeResponse(int statusCode, string reasonPhrase, IReadOnlyList<KeyValuePair<string, string>> headers, Stream stream)
    {
        StatusCode = statusCode;
        ReasonPhrase = reasonPhrase;
        Headers = headers;
        Stream = stream;
    }

    public int StatusCode { get; }

    public string ReasonPhrase { get; }

    public IReadOnlyList<KeyValuePair<string, string>> Headers { get; }

    /// <summary>The connection, positioned after the response head.</summary>
    public Stream Stream { get; }

    public bool Upgraded => StatusCode == 101;

    public string? Header(string name) =>
        Headers.Where(h => string.Equals(h.Key, name, StringComparison.OrdinalIgnoreCase)).Select(h => h.Value).FirstOrDefault();

    /// <summary>Reads the body of a refused upgrade (Content-Length, chunked, or up to the close), at most <paramref name="limit"/> bytes.</summary>
    public async Task<byte[]> ReadBodyAsync(int limit, CancellationToken cancellationToken)
    {
        var body = new MemoryStream();
        if (long.TryParse(Header("Content-Length"), NumberStyles.None, CultureInfo.InvariantCulture, out var length))
        {
            await CopyAsync(body, Math.Min(length, limit), cancellationToken).ConfigureAwait(false);
        }
        else if (Header("Transfer-Encoding")?.Contains("chunked", StringComparison.OrdinalIgnoreCase) == true)
        {
            while (body.Length < limit)
            {
                var sizeLine = await ReadLineAsync(cancellationToken).ConfigureAwait(false);
                var size = long.Parse(sizeLine.Split(';')[0].Trim(), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
                if (size == 0)
                {
                    break;
                }

                await CopyAsync(body, Math.Min(size, limit - body.Length), cancellationToken).ConfigureAwait(false);
                await ReadLineAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        else
        {
            await CopyAsync(body, limit, cancellationToken).ConfigureAwait(false);
        }

        return body.ToArray();
    }

    public ValueTask DisposeAsync() => Stream.DisposeAsync();

    private async Task CopyAsync(MemoryStream into, long count, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        while (count > 0)
        {
            var read = await Stream.ReadAsync(buffer.AsMemory(0, (int)Math.Min(buffer.Length, count)), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                return;
            }

            into.Write(buffer, 0, read);
            count -= read;
        }
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        var line = new StringBuilder();
        var one = new byte[1];
        while (await Stream.ReadAsync(one, cancellationToken).ConfigureAwait(false) == 1 && one[0] != '\n')
        {
            if (one[0] != '\r')
            {
                line.Append((char)one[0]);
            }
        }

        return line.ToString();
    }
}
