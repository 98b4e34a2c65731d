using System.IO.Compression;
using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace Kubesharp.Api.Generator;

/// <summary>
/// Finds the gzipped FileDescriptorProtos that Go programs built with the Kubernetes API packages
/// register at start-up, by scanning a binary for gzip members whose content parses as a descriptor
/// of a k8s.io proto file.
/// </summary>
internal static class ProtobufDescriptors
{
    private static readonly byte[] GzipHeader = [0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00];

    public static IReadOnlyList<FileDescriptorProto> Extract(byte[] binary)
    {
        var found = new List<FileDescriptorProto>();
        var span = binary.AsSpan();
        var offset = 0;
        while (true)
        {
            var hit = span[offset..].IndexOf(GzipHeader);
            if (hit < 0)
            {
                break;
            }

            var start = offset + hit;
            offset = start + 1;
            if (TryDecompress(binary, start) is not { } bytes || bytes.Length < 3 || bytes[0] != 0x0a)
            {
                continue;
            }

            try
            {
                var file = FileDescriptorProto.Parser.ParseFrom(bytes);
                if (file.Name.StartsWith("k8s.io/", StringComparison.Ordinal) && file.Name.EndsWith(".proto", StringComparison.Ordinal))
                {
                    found.Add(file);
                }
            }
            catch (InvalidProtocolBufferException)
            {
                // Another gzip member that happens to start like a descriptor.
            }
        }

        return found;
    }

    private static byte[]? TryDecompress(byte[] binary, int start)
    {
        try
        {
            using var input = new MemoryStream(binary, start, binary.Length - start, writable: false);
            using var gzip = new GZipStream(input, CompressionMode.Decompress);
            using var output = new MemoryStream();
            var buffer = new byte[64 * 1024];
            int read;
            while ((read = gzip.Read(buffer, 0, buffer.Length)) > 0)
            {
                output.Write(buffer, 0, read);
                if (output.Length > 16 * 1024 * 1024)
                {
                    return null;
                }
            }

            return output.ToArray();
        }
        catch (InvalidDataException)
        {
            return null;
        }
    }
}
