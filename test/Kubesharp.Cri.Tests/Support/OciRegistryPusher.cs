using System.Net;
using System.Net.Http.Headers;
using Kubesharp.Kubelet.Images;

namespace Kubesharp.Cri.Tests.Support;

/// <summary>Pushes an image over the OCI distribution API: each blob by monolithic upload, then the manifest.</summary>
public static class OciRegistryPusher
{
    public static async Task PushAsync(HttpClient http, Uri registry, string repository, string tag, OciImage image, CancellationToken cancellationToken = default)
    {
        foreach (var blob in image.Layers.Append(image.Config))
        {
            using var head = new HttpRequestMessage(HttpMethod.Head, new Uri(registry, $"v2/{repository}/blobs/{blob.Digest}"));
            using var exists = await http.SendAsync(head, cancellationToken);
            if (exists.StatusCode == HttpStatusCode.OK)
            {
                continue;
            }

            using var start = await http.PostAsync(new Uri(registry, $"v2/{repository}/blobs/uploads/"), null, cancellationToken);
            if (start.StatusCode != HttpStatusCode.Accepted || start.Headers.Location is null)
            {
                throw new HttpRequestException($"Starting a blob upload failed: {(int)start.StatusCode}");
            }

            var location = start.Headers.Location.IsAbsoluteUri ? start.Headers.Location : new Uri(registry, start.Headers.Location);
            var separator = string.IsNullOrEmpty(location.Query) ? "?" : "&";
            using var content = new ByteArrayContent(blob.Content);
            content.Headers.ContentType = new MediaTypeHeaderValue("application/octet-stream");
            using var put = await http.PutAsync(new Uri(location + separator + "digest=" + Uri.EscapeDataString(blob.Digest)), content, cancellationToken);
            if (put.StatusCode != HttpStatusCode.Created)
            {
                throw new HttpRequestException($"Uploading {blob.Digest} failed: {(int)put.StatusCode} {await put.Content.ReadAsStringAsync(cancellationToken)}");
            }
        }

        using var manifest = new ByteArrayContent(image.Manifest.Content);
        manifest.Headers.ContentType = new MediaTypeHeaderValue(image.Manifest.MediaType);
        using var response = await http.PutAsync(new Uri(registry, $"v2/{repository}/manifests/{tag}"), manifest, cancellationToken);
        if (response.StatusCode != HttpStatusCode.Created)
        {
            throw new HttpRequestException($"Putting the manifest failed: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }
}
