using System.Buffers;
using System.Buffers.Binary;
using System.IO.Compression;
using Google.Protobuf;

namespace Kubesharp.Grpc;

/// <summary>gRPC length-prefixed messages: a compressed flag byte, a big-endian 32-bit length, the message.</summary>
internal static class GrpcFraming
{
    public const int HeaderSize = 5;

    public static byte[] Frame(IMessage message)
    {
        var size = message.CalculateSize();
        var buffer = new byte[HeaderSize + size];
        WriteHeader(buffer, size);
        message.WriteTo(buffer.AsSpan(HeaderSize));
        return buffer;
    }

    public static void WriteHeader(Span<byte> destination, int length)
    {
        destination[0] = 0;
        BinaryPrimitives.WriteUInt32BigEndian(destination[1..], (uint)length);
    }

    /// <summary>Reads the next message, or returns null when the stream ends cleanly between messages.</summary>
    public static async ValueTask<T?> ReadMessageAsync<T>(
        Stream stream, MessageParser<T> parser, int maxSize, string? encoding, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        var header = new byte[HeaderSize];
        var read = await stream.ReadAtLeastAsync(header, HeaderSize, throwOnEndOfStream: false, cancellationToken);
        if (read == 0)
        {
            return null;
        }

        if (read < HeaderSize)
        {
            throw new RpcException(StatusCode.Internal, "Response ended inside a message header.");
        }

        var compressed = header[0];
        var length = BinaryPrimitives.ReadUInt32BigEndian(header.AsSpan(1));
        if (length > (uint)maxSize)
        {
            throw new RpcException(StatusCode.ResourceExhausted, $"Received message of {length} bytes exceeds the limit of {maxSize}.");
        }

        var buffer = ArrayPool<byte>.Shared.Rent((int)length);
        try
        {
            try
            {
                await stream.ReadExactlyAsync(buffer.AsMemory(0, (int)length), cancellationToken);
            }
            catch (EndOfStreamException e)
            {
                throw new RpcException(StatusCode.Internal, "Response ended inside a message.", null, e);
            }

            try
            {
                return compressed switch
                {
                    0 => parser.ParseFrom(buffer, 0, (int)length),
                    1 => ParseCompressed(parser, buffer, (int)length, encoding, maxSize),
                    _ => throw new RpcException(StatusCode.Internal, $"Invalid compressed flag {compressed}."),
                };
            }
            catch (InvalidProtocolBufferException e)
            {
                throw new RpcException(StatusCode.Internal, "Failed to parse response message: " + e.Message, null, e);
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static T ParseCompressed<T>(MessageParser<T> parser, byte[] buffer, int length, string? encoding, int maxSize)
        where T : class, IMessage<T>
    {
        using var input = new MemoryStream(buffer, 0, length, writable: false);
        using Stream decompressor = encoding switch
        {
            "gzip" => new GZipStream(input, CompressionMode.Decompress),
            "deflate" => new ZLibStream(input, CompressionMode.Decompress),
            _ => throw new RpcException(StatusCode.Internal, $"Compressed message with unsupported grpc-encoding '{encoding ?? "identity"}'."),
        };
        using var output = new MemoryStream();
        var chunk = new byte[81920];
        int n;
        while ((n = decompressor.Read(chunk, 0, chunk.Length)) > 0)
        {
            output.Write(chunk, 0, n);
            if (output.Length > maxSize)
            {
                throw new RpcException(StatusCode.ResourceExhausted, $"Decompressed message exceeds the limit of {maxSize} bytes.");
            }
        }

        return parser.ParseFrom(output.GetBuffer(), 0, (int)output.Length);
    }
}
