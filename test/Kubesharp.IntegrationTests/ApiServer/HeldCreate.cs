using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Text;

namespace Kubesharp.IntegrationTests.ApiServer;

/// <summary>
/// A create whose body arrives slowly: the request holds its seat while the server reads it. Whitespace before the
/// JSON keeps data flowing (the server's minimum body data rate) until <see cref="CompleteAsync"/> sends the object.
/// </summary>
internal sealed class HeldCreate : IAsyncDisposable
{
    private readonly Pipe _pipe = new();
    private readonly CancellationTokenSource _release = new(TimeSpan.FromSeconds(60));
    private readonly Task<HttpResponseMessage> _response;
    private readonly Task _trickle;
    private readonly string _body;

    private HeldCreate(HttpClient client, string path, string body)
    {
        _body = body;
        var content = new StreamContent(_pipe.Reader.AsStream());
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        _response = client.PostAsync(path, content);
        _trickle = TrickleAsync();
    }

    public static HeldCreate Start(HttpClient client, string path, string body) => new(client, path, body);

    public async Task<HttpStatusCode> CompleteAsync()
    {
        await _release.CancelAsync();
        await _trickle;
        await _pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(_body));
        await _pipe.Writer.CompleteAsync();
        using var response = await _response.WaitAsync(TimeSpan.FromSeconds(60));
        return response.StatusCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_release.IsCancellationRequested)
        {
            await _release.CancelAsync();
            await _trickle;
            await _pipe.Writer.CompleteAsync();
            try
            {
                using var response = await _response.WaitAsync(TimeSpan.FromSeconds(60));
            }
            catch (HttpRequestException)
            {
            }
        }

        _release.Dispose();
    }

    private async Task TrickleAsync()
    {
        var spaces = Encoding.UTF8.GetBytes(new string(' ', 128));
        try
        {
            // Bounded by the 60 s release timeout.
            while (!_release.IsCancellationRequested)
            {
                await _pipe.Writer.WriteAsync(spaces);
                await Task.Delay(100, _release.Token);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
